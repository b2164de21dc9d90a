import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// Helpers for the typed-input tests of the session, lifecycle, inbox, plan, lock and system groups.
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
}
