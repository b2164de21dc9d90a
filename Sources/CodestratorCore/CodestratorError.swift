import Foundation

/// The error codes of docs/protocol-eras.md#errors.
public enum ErrorCode: String, Sendable {
    case invalidParams = "invalid_params"
    case notFound = "not_found"
    case invalidState = "invalid_state"
    case conflict
    case forbidden
    case unavailable
    case externalFailed = "external_failed"
    case timeout
    case busy
    case notImplemented = "not_implemented"
    case `internal`
}

/// A failure a method reports to its caller as an `isError` result.
///
/// Services describe *what* was wrong and what was *expected*; the dispatcher prefixes the
/// method name, giving `<method>: <what>; expected <expected>` (docs/protocol-eras.md#errors).
public struct CodestratorError: Error, Sendable {
    public var code: ErrorCode
    public var what: String
    public var expected: String
    public var field: String?
    /// Extra fields placed next to `error` in structuredContent (e.g. `conflicting_files`).
    public var context: JSONObject
    /// The kind of an outside program's failure, set by the adapter that ran it (AdapterFailure); never
    /// reported to the caller, only matched by services.
    public var failure: AdapterFailure?

    public init(
        _ code: ErrorCode, _ what: String, expected: String, field: String? = nil,
        context: JSONObject = JSONObject(), failure: AdapterFailure? = nil
    ) {
        self.code = code
        self.what = what
        self.expected = expected
        self.field = field
        self.context = context
        self.failure = failure
    }

    public func message(method: String) -> String { "\(method): \(what); expected \(expected)" }

    /// The `structuredContent` of the failed call.
    public func structured(method: String) -> JSON {
        var err = JSONObject()
        err["code"] = .string(code.rawValue)
        err["method"] = .string(method)
        err["field"] = field.json
        err["message"] = .string(message(method: method))
        err["expected"] = .string(expected)
        var o = JSONObject()
        o["error"] = .object(err)
        for (k, v) in context.pairs { o[k] = v }
        return .object(o)
    }

    // Common shapes.
    public static func notFound(_ kind: String, _ id: Int, expected: String? = nil, field: String? = nil)
        -> CodestratorError
    {
        CodestratorError(
            .notFound, "\(kind) \(id) not found", expected: expected ?? "the id of an existing \(kind)", field: field)
    }

    public static func invalidState(_ what: String, expected: String) -> CodestratorError {
        CodestratorError(.invalidState, what, expected: expected)
    }
}

/// Quotes a received value for an error message, cut to 80 characters with `…`.
public func quoted(_ s: String) -> String {
    let cut = s.count > 80 ? String(s.prefix(80)) + "…" : s
    var out = "\""
    for ch in cut.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if ch.value < 0x20 || ch.value == 0x7F {
                out += String(format: "\\u%04x", ch.value)
            } else {
                out.unicodeScalars.append(ch)
            }
        }
    }
    return out + "\""
}
