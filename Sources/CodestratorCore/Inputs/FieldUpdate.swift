/// A nullable field of an update method (`task.update`'s `description`, …): left alone when the caller omits it,
/// cleared by an explicit `null`, set otherwise. A typed input keeps the three cases apart, which an optional
/// cannot.
public enum FieldUpdate<Value: Sendable & Equatable>: Sendable, Equatable {
    case unchanged
    case cleared
    case set(Value)

    /// Whether the caller named the field at all (a value or an explicit null).
    public var isGiven: Bool { self != .unchanged }

    /// The new value: nil when cleared; only meaningful when `isGiven`.
    public var newValue: Value? {
        if case .set(let v) = self { return v }
        return nil
    }
}

extension Params {
    /// The update the caller asked for on `k`, read with `read` (e.g. `{ $0.string($1) }`).
    public func update<V>(_ k: String, _ read: (Params, String) -> V?) -> FieldUpdate<V> {
        if let v = read(self, k) { return .set(v) }
        return isExplicitNull(k) ? .cleared : .unchanged
    }
}
