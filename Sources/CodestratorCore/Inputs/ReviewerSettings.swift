/// How a merge reviewer child is started: given to `merge.review.request_auto`, or taken from the queue item
/// when `merge.lock.acquire` dispatches its review. Everything else of the reviewer's spawn is fixed by the review.
public struct ReviewerSettings: Sendable {
    public var provider: String?
    public var runnerKind: String?
    public var agentGuidePath: String?
    public var agentOverride: JSON?
    public var maxConcurrentChildren: Int?
    public var ensureTmux = ThreadSpawnInput.ensureTmuxDefault

    public init(provider: String? = nil, agentGuidePath: String? = nil, agentOverride: JSON? = nil) {
        (self.provider, self.agentGuidePath, self.agentOverride) = (provider, agentGuidePath, agentOverride)
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) {
        self.init(provider: p.string("provider"), agentGuidePath: p.string("agent_guide_path"))
        agentOverride = p.json("agent_override")
        runnerKind = p.string("runner_kind")
        maxConcurrentChildren = p.int("max_concurrent_children")
        ensureTmux = p.bool("ensure_tmux") ?? ThreadSpawnInput.ensureTmuxDefault
    }

    /// The reviewer's spawn with these settings applied.
    func apply(to input: inout ThreadSpawnInput) {
        input.provider = provider
        input.runnerKind = runnerKind
        input.agentGuidePath = agentGuidePath
        input.agentOverride = agentOverride
        input.maxConcurrentChildren = maxConcurrentChildren
        input.ensureTmux = ensureTmux
    }
}
