import CodestratorCore

extension EnvironmentProvider {
    /// Uses an environment built by the caller instead of resolving the repository through git and
    /// creating `.codestrator/` (`codestrator hook session-start` opens an existing database with a short
    /// busy timeout and must stay fast).
    public func adopt(_ env: ServiceEnvironment) {
        built = env
        ready.set(env)
    }
}
