/// Finds outside programs and asks them for their version (git, tmux, the agent CLIs), argv only.
/// CodestratorRuntime implements it over `ProcessRunner`; `runtime.bundle.info` and `codestrator doctor`
/// read it through `Toolchain`, and unit tests may fake it.
public protocol ProgramProbe: Sendable {
    /// The path `program` runs from: itself when it contains `/` and is executable, else the first
    /// executable match on PATH; nil when there is none.
    func locate(_ program: String) -> String?
    /// What `argv` printed on stdout when it exited 0 within `timeout` seconds; nil otherwise (missing,
    /// failed, killed at the limit).
    func output(_ argv: [String], timeout: Double) async -> String?
}
