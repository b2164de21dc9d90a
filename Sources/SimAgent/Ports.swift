import CodestratorCore
import Foundation

/// What a Codestrator call answered.
public enum SimCallReply: Sendable, Equatable {
    /// The call's result (`structuredContent`).
    case ok(JSON)
    /// The call failed: `isError` (its text content), a JSON-RPC error, or a broken connection.
    case error(String)
}

/// The sim's way back to Codestrator: one method call at a time (docs/sim-agent.md, "Calls").
public protocol SimConnection: Sendable {
    func call(method: String, params: JSON) async -> SimCallReply
}

/// Where the sim prints. Lines are whole lines; `echo` and `prompt` stay on the current line.
public protocol SimScreen: AnyObject {
    /// A whole line (a marker, a reply line).
    func line(_ text: String)
    /// The prompt `sim> `.
    func prompt()
    /// Echo of typed or pasted text.
    func echo(_ text: String)
    /// Erases the last echoed character.
    func eraseOne()
    /// Shows (true) or hides the spinner line `⠋ working… (esc to interrupt)`.
    func setWorking(_ on: Bool)
}

/// Keyboard events in arrival order.
public protocol SimInput: AnyObject, Sendable {
    /// The next event (waits for one).
    func next() async -> KeyEvent
    /// Takes a queued Escape or C-c, if one arrived; other queued events stay for later.
    func takeInterrupt() -> Bool
}

/// The sim's effects outside the screen and Codestrator calls.
public protocol SimSystem: Sendable {
    /// Writes (or appends) a file at a path relative to the working directory.
    func write(path: String, content: String, append: Bool) throws
    /// `git add -A` and `git commit -m message` in the working directory; returns a one-line summary.
    func commit(message: String) async throws -> String
    /// Appends one submitted input to `sim_<thread>_inputs.jsonl`.
    func recordInput(_ text: String)
    /// `codestrator hook sim --event <event>` (docs/runtime-guide.md#status-detection).
    func report(event: String, message: String?) async
    /// Waits (interruptions are checked by the caller between slices).
    func sleep(seconds: Double) async
}

/// A failed effect, with its message.
public struct SimFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
