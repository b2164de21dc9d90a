/// The inputs of orch_thread's methods (`thread.child.spawn` has ThreadSpawnInput) and of `runtime.tmux.ensure`:
/// each decoded once from the validated `Params` at the MCP edge (the registry has filled in the defaults,
/// declared from the constants here), or built directly by a caller inside the core or a test.

/// `thread.child.list`: a session's threads, filtered.
public struct ThreadListInput: Sendable, Equatable {
    public static let includeRootDefault = false
    public static let refreshDefault = true

    public var sessionId: Int
    public var parentThreadId: Int?
    /// The statuses asked for (one string or an array on the wire), aliases not yet resolved.
    public var statuses: [String]?
    public var role: String?
    public var includeRoot = Self.includeRootDefault
    /// Observe the live children first.
    public var refresh = Self.refreshDefault

    public init(sessionId: Int) { self.sessionId = sessionId }

    public init(_ p: Params) throws {
        self.init(sessionId: try p.req("session_id"))
        parentThreadId = p.int("parent_thread_id")
        statuses = p.json("status").flatMap { v in v.stringValue.map { [$0] } ?? v.arrayValue?.compactMap(\.stringValue)
        }
        role = p.string("role")
        includeRoot = p.bool("include_root") ?? Self.includeRootDefault
        refresh = p.bool("refresh") ?? Self.refreshDefault
    }
}

/// `thread.child.wait_status`.
public struct ThreadWaitStatusInput: Sendable, Equatable {
    public static let timeoutSecondsDefault = 60

    public var threadId: Int
    /// Thread statuses (aliases `processing`, `error` allowed); checked by the service.
    public var targetStatuses: [String]
    public var timeoutSeconds: Int

    public init(threadId: Int, targetStatuses: [String], timeoutSeconds: Int = Self.timeoutSecondsDefault) {
        (self.threadId, self.targetStatuses, self.timeoutSeconds) = (threadId, targetStatuses, timeoutSeconds)
    }

    public init(_ p: Params) throws {
        guard let targets = p.strings("target_statuses") else {
            throw Params.missing("target_statuses", "an array of thread statuses")
        }
        self.init(
            threadId: try p.req("thread_id"), targetStatuses: targets,
            timeoutSeconds: p.int("timeout_seconds") ?? Self.timeoutSecondsDefault)
    }
}

/// `thread.child.stop`.
public struct ThreadStopInput: Sendable, Equatable {
    public static let terminatePaneDefault = true
    public static let waitSecondsDefault = 5

    public var threadId: Int
    public var terminatePane: Bool
    /// How long the child gets to exit before its pane is closed.
    public var waitSeconds: Int

    public init(
        threadId: Int, terminatePane: Bool = Self.terminatePaneDefault, waitSeconds: Int = Self.waitSecondsDefault
    ) {
        (self.threadId, self.terminatePane, self.waitSeconds) = (threadId, terminatePane, waitSeconds)
    }

    public init(_ p: Params) throws {
        self.init(
            threadId: try p.req("thread_id"), terminatePane: p.bool("terminate_pane") ?? Self.terminatePaneDefault,
            waitSeconds: p.int("wait_seconds") ?? Self.waitSecondsDefault)
    }
}

/// `thread.child.directive`: text for the modes interrupt_patch, queue and restart; text or keys for answer.
public struct ThreadDirectiveInput: Sendable, Equatable {
    public static let modes = ["interrupt_patch", "queue", "restart", "answer"]
    public static let modeDefault = "interrupt_patch"
    public static let waitIdleSecondsDefault = 10

    public var threadId: Int
    public var directive: String?
    /// One of `modes`.
    public var mode: String
    public var keys: [String]?
    /// interrupt_patch: how long to wait for the child to become idle after the interrupt.
    public var waitIdleSeconds = Self.waitIdleSecondsDefault

    public init(threadId: Int, directive: String?, mode: String = Self.modeDefault, keys: [String]? = nil) {
        (self.threadId, self.directive, self.mode, self.keys) = (threadId, directive, mode, keys)
    }

    public init(_ p: Params) throws {
        self.init(
            threadId: try p.req("thread_id"), directive: p.string("directive"),
            mode: p.string("mode") ?? Self.modeDefault, keys: p.strings("keys"))
        waitIdleSeconds = p.int("wait_idle_seconds") ?? Self.waitIdleSecondsDefault
    }
}

/// `runtime.tmux.ensure`.
public struct TmuxEnsureInput: Sendable, Equatable {
    public static let autoInstallDefault = false

    /// The session whose runtime state records the outcome (a child caller's own by default).
    public var sessionId: Int?
    /// Try the system's package managers (through `sudo -n`) when tmux is missing or too old.
    public var autoInstall: Bool

    public init(sessionId: Int? = nil, autoInstall: Bool = Self.autoInstallDefault) {
        (self.sessionId, self.autoInstall) = (sessionId, autoInstall)
    }

    public init(_ p: Params) {
        self.init(sessionId: p.int("session_id"), autoInstall: p.bool("auto_install") ?? Self.autoInstallDefault)
    }
}
