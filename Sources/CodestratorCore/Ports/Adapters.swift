import Foundation

/// The outside world one process works through: git, tmux, program lookup and the state database. The
/// executable's composition root (CodestratorAssembly) makes it once per command and hands it down, so no
/// layer picks an adapter or a database setting of its own.
public struct Adapters: Sendable {
    public let git: any GitClient
    public let tmux: any TmuxClient
    public let programs: any ProgramProbe
    /// Opens (creating and migrating when needed) the database at a path, with the busy timeout this process
    /// was given.
    public let openDatabase: @Sendable (String) throws -> Store

    public init(
        git: any GitClient, tmux: any TmuxClient, programs: any ProgramProbe,
        openDatabase: @escaping @Sendable (String) throws -> Store
    ) {
        self.git = git
        self.tmux = tmux
        self.programs = programs
        self.openDatabase = openDatabase
    }
}
