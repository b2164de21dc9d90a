import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// Helpers for the typed-input tests of every tool group.
enum InputTesting {
    /// `params` validated by `method`'s registry entry, with its defaults filled in.
    static func validated(_ method: String, _ params: JSONObject = [:]) throws -> Params {
        let specs = try #require(MethodRegistry.standard[method]?.params)
        return try ParamValidator.validate(params, specs: specs).0
    }

    /// The field an `invalid_params` error of `body` names; nil when it throws nothing or something else.
    static func missingField<T>(_ body: () throws -> T) -> String? {
        do {
            _ = try body()
            return nil
        } catch let e as CodestratorError {
            return e.code == .invalidParams ? e.field : nil
        } catch {
            return nil
        }
    }

    /// The field of the `invalid_params` error that decoding `p` (empty: nothing given) throws.
    static func missingField<T>(_ decode: (Params) throws -> T, _ p: Params = Params()) -> String? {
        missingField { try decode(p) }
    }

    /// `decode` fails with `invalid_params` on `field`.
    static func expectMissing<T>(_ field: String, _ decode: () throws -> T) {
        do {
            _ = try decode()
            Issue.record("no error for a missing \(field)")
        } catch let e as CodestratorError {
            #expect(e.code == .invalidParams)
            #expect(e.field == field)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
