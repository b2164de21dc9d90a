import CodestratorCore
import Foundation

/// What a fake was asked, in order, and the failures a test scripted for it. Fakes are shared by the
/// service under test and the test itself, possibly across tasks: every access holds the lock.
public final class CallLog: @unchecked Sendable {
    public struct Call: Sendable, Equatable, CustomStringConvertible {
        /// The port method (`splitWindow`, `worktreeAdd`…).
        public var method: String
        /// Its notable arguments, as text.
        public var args: [String]
        public var description: String { ([method] + args).joined(separator: " ") }
    }

    let lock = NSLock()
    var recorded: [Call] = []
    var scripted: [String: [CodestratorError]] = [:]

    public init() {}

    /// Every call so far.
    public var calls: [Call] { lock.withLock { recorded } }

    /// The method names of every call so far.
    public var methods: [String] { calls.map(\.method) }

    /// The calls of one method.
    public func calls(_ method: String) -> [Call] { calls.filter { $0.method == method } }

    /// The next `times` calls of `method` throw `error` (after being recorded), then calls succeed again.
    public func fail(_ method: String, with error: CodestratorError, times: Int = 1) {
        lock.withLock { scripted[method, default: []] += Array(repeating: error, count: times) }
    }

    /// Records the call and throws the failure scripted for it, if any.
    func record(_ method: String, _ args: [String] = []) throws {
        let failure: CodestratorError? = lock.withLock {
            recorded.append(Call(method: method, args: args))
            guard var queue = scripted[method], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            scripted[method] = queue
            return first
        }
        if let failure { throw failure }
    }

    /// Runs `body` under the lock (for a fake's own state).
    func locked<T>(_ body: () throws -> T) rethrows -> T { try lock.withLock(body) }
}
