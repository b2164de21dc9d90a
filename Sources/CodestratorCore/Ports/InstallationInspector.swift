/// How Codestrator is installed for the agent CLIs: what `runtime.bundle.info` reports as `client_configs`
/// and `skills` (docs/methods.md#orch_system--codestrator-runtime-mirror-and-planning, docs/install.md#what-install-writes).
///
/// The seam: only `CodestratorInstall` knows where each client keeps its server registration and skills,
/// and it depends on `CodestratorMCP` (the installed skills embed the registry's method reference), so
/// the registry's handlers cannot call the installer. Core declares what it needs here; the executable,
/// which links both, hands an implementation (`InstalledBundleInspector`) to `EnvironmentProvider` when
/// it builds the server (`serve`, `call`). A process without one reports no configs and no skills, with a
/// warning.
public protocol InstallationInspector: Sendable {
    /// Every place, in both scopes (project only when `repo` is known) and for both clients, where a
    /// server registration or a skill may be; read from disk now, never from a cache.
    func inspect(repo: String?) -> InstallationFacts
}

/// What an `InstallationInspector` found.
public struct InstallationFacts: Sendable, Equatable {
    public var clientConfigs: [ClientConfigFacts]
    public var skills: [SkillFacts]

    public init(clientConfigs: [ClientConfigFacts], skills: [SkillFacts]) {
        self.clientConfigs = clientConfigs
        self.skills = skills
    }
}

/// One file in which a client may register the `codestrator` MCP server.
public struct ClientConfigFacts: Sendable, Equatable {
    /// `codex` or `claude` (as `codestrator install --client` names them).
    public var client: String
    /// `project` or `user`.
    public var scope: String
    public var path: String
    /// The file exists.
    public var present: Bool
    /// It holds a `codestrator` server entry (written by install or by hand).
    public var registered: Bool
    public var command: String?
    public var args: [String]?
    /// Why the file could not be read (not valid TOML or JSON…); reported as a warning.
    public var problem: String?

    public init(
        client: String, scope: String, path: String, present: Bool, registered: Bool, command: String?,
        args: [String]?, problem: String? = nil
    ) {
        self.client = client
        self.scope = scope
        self.path = path
        self.present = present
        self.registered = registered
        self.command = command
        self.args = args
        self.problem = problem
    }
}

/// One place where a role skill may be installed.
public struct SkillFacts: Sendable, Equatable {
    /// The skill's name, e.g. `codestrator-worker` (`SkillText.name`).
    public var name: String
    public var client: String
    public var scope: String
    /// Its `SKILL.md`.
    public var path: String
    public var installed: Bool
    /// `metadata.codestrator-version` of the installed `SKILL.md`.
    public var version: String?
    /// Every file of the skill equals the text this binary ships.
    public var current: Bool

    public init(
        name: String, client: String, scope: String, path: String, installed: Bool, version: String?, current: Bool
    ) {
        self.name = name
        self.client = client
        self.scope = scope
        self.path = path
        self.installed = installed
        self.version = version
        self.current = current
    }
}
