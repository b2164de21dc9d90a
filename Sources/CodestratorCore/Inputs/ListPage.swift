/// `limit` / `offset` of a list method (CommonParams.list), decoded once at the MCP edge.
public struct ListPage: Sendable, Equatable {
    public static let limitDefault = 100
    public static let offsetDefault = 0

    public var limit: Int
    public var offset: Int

    public init(limit: Int = Self.limitDefault, offset: Int = Self.offsetDefault) {
        (self.limit, self.offset) = (limit, offset)
    }

    /// From the call's validated parameters (the registry has filled in the defaults).
    public init(_ p: Params) {
        self.init(limit: p.int("limit") ?? Self.limitDefault, offset: p.int("offset") ?? Self.offsetDefault)
    }
}
