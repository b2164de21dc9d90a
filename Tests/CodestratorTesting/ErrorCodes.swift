import CodestratorCore

/// The error code `body` fails with (`internal` for an error that is not a CodestratorError); nil when it succeeds.
public func errorCode<T>(_ body: () async throws -> T) async -> ErrorCode? {
    do {
        _ = try await body()
        return nil
    } catch let e as CodestratorError {
        return e.code
    } catch {
        return .internal
    }
}
