import CodestratorCore
import CodestratorMCP
import CodestratorRuntime
import Foundation

/// The composition root: the one place where the adapters behind Core's ports (CodestratorRuntime) are
/// chosen and the state database is opened. `serve`, `call`, `status`, `hook`, `doctor`, `install`,
/// `sim-agent` and the tests build what they need here; the MCP, HTTP and install layers only receive it.
public enum Assembly {
    /// Why a process opens the database; each use has its own busy timeout (how long a write waits for
    /// another process's write before failing with `busy`).
    public enum StoreUse: Sendable {
        /// `serve`, `call`, `status`: a server is several processes writing one file (a root, its children,
        /// one-shot calls), and a call that fails with `busy` costs an agent a retry. 5 s is well above the
        /// longest wait measured with 8 writer processes (docs/performance.md), so it only waits out peaks.
        case server
        /// `hook …`: an agent CLI waits for its hook, and a lost event only costs the screen fallback.
        /// 0.5 s leaves the hook inside its 1 s deadline (withDeadline) with room for the rest of its work.
        case hook
        /// `doctor`: it only reads and reports; 2 s waits out a server's write without making the report hang
        /// when a process holds the database for long (which is itself worth reporting).
        case doctor

        public var busyTimeout: TimeInterval {
            switch self {
            case .server: return 5
            case .hook: return 0.5
            case .doctor: return 2
            }
        }
    }

    /// The git adapter: the `git` command line.
    public static func makeGitClient() -> any GitClient { CLIGitClient() }

    /// The tmux adapter. A long-lived server (`serve`) keeps one tmux control-mode connection per socket
    /// (`CODESTRATOR_TMUX_ADAPTER=oneshot` turns it off); a one-shot process (`call`, `hook`, `status`) would
    /// pay for starting that connection and never use it again, so it runs one `tmux` command per call.
    public static func makeTmuxClient(
        persistent: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> any TmuxClient {
        guard persistent, environment["CODESTRATOR_TMUX_ADAPTER"] != "oneshot" else { return CLITmuxClient() }
        return CLITmuxClient(control: ControlModeTmuxClient())
    }

    /// Locating programs on PATH and asking their versions.
    public static func makeProgramProbe() -> any ProgramProbe { CLIProgramProbe() }

    /// Opens (creating and migrating when needed) the database at `path` for `use`.
    public static func openDatabase(_ path: String, for use: StoreUse) throws -> Store {
        try Store(path: path, busyTimeout: use.busyTimeout)
    }

    /// Every adapter a process of `use` works through; `programs` replaces the program probe (tests pass a
    /// fake one so results do not depend on what the machine has installed).
    public static func adapters(
        for use: StoreUse, programs: (any ProgramProbe)? = nil, persistentTmux: Bool = false
    ) -> Adapters {
        Adapters(
            git: makeGitClient(), tmux: makeTmuxClient(persistent: persistentTmux),
            programs: programs ?? makeProgramProbe(),
            openDatabase: { try openDatabase($0, for: use) })
    }

    /// The environment provider of a server or one-shot call (`serve`, `call`, `status`): it resolves the
    /// repository and opens the database on first use, with the server's busy timeout. Only a long-lived
    /// server (not `oneShot`) keeps a tmux control-mode connection.
    public static func provider(
        options: ServerOptions, programs: (any ProgramProbe)? = nil, installation: (any InstallationInspector)? = nil
    ) -> EnvironmentProvider {
        EnvironmentProvider(
            options: options, adapters: adapters(for: .server, programs: programs, persistentTmux: !options.oneShot),
            installation: installation)
    }
}
