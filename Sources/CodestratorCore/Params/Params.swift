/// Validated parameters of one call: every present value has its declared kind, and names,
/// titles and enums are already trimmed and normalised.
public struct Params: Sendable {
    var values: [String: JSON]
    var explicitNulls: Set<String>
    var defaults: [String: JSON]
    /// Keys the caller sent that no spec declares (ignored with a warning).
    public var unknownKeys: [String] = []

    public init(values: [String: JSON] = [:], explicitNulls: Set<String> = [], defaults: [String: JSON] = [:]) {
        self.values = values
        self.explicitNulls = explicitNulls
        self.defaults = defaults
    }

    /// Whether the caller gave the key (a non-null value, or an explicit null for a nullable param).
    public func has(_ k: String) -> Bool { values[k] != nil || explicitNulls.contains(k) }
    public func isExplicitNull(_ k: String) -> Bool { explicitNulls.contains(k) }

    func value(_ k: String) -> JSON? { values[k] ?? defaults[k] }

    public func int(_ k: String) -> Int? { value(k)?.intValue }
    public func string(_ k: String) -> String? { value(k)?.stringValue }
    public func bool(_ k: String) -> Bool? { value(k)?.boolValue }
    public func json(_ k: String) -> JSON? { value(k) }
    public func strings(_ k: String) -> [String]? { value(k)?.arrayValue?.compactMap(\.stringValue) }
    public func ints(_ k: String) -> [Int]? { value(k)?.arrayValue?.compactMap(\.intValue) }

    /// A required value. Validation guarantees it for a call; a missing one is an error, never 0 or "".
    public func req(_ k: String) throws -> Int {
        guard let v = int(k) else { throw Self.missing(k, ParamKind.id.expectation) }
        return v
    }

    public func reqString(_ k: String) throws -> String {
        guard let v = string(k) else { throw Self.missing(k, "a value") }
        return v
    }

    static func missing(_ k: String, _ expected: String) -> CodestratorError {
        CodestratorError(.invalidParams, "field \"\(k)\" is required", expected: expected, field: k)
    }

    public func enumValue<E: RawRepresentable>(_ k: String, _ type: E.Type) -> E? where E.RawValue == String {
        string(k).flatMap(E.init(rawValue:))
    }
}
