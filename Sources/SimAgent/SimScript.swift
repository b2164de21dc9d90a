import CodestratorCore
import Foundation

/// One step of a sim script (docs/sim-agent.md). Each action is a JSON object with exactly one key.
public indirect enum SimAction: Sendable, Equatable {
    /// Prints the text between `[sim] reply-begin` and `[sim] reply-end`.
    case say(String)
    /// Waits this many seconds (times `--speed`); interruptible, and started again after an interrupt.
    case work(Double)
    /// Writes (or appends) a file inside the working directory.
    case write(path: String, content: String, append: Bool)
    /// `git add -A` then `git commit -m <message>` in the working directory.
    case commit(String)
    /// A Codestrator method through the MCP server; the result is kept as `${saved.<saveAs>…}`.
    case call(method: String, params: JSON, saveAs: String?)
    /// Asks a yes/no question; the answer (`y` or `n`) becomes `${answer}`. With `onNo`, an `n` runs those
    /// actions and then ends the input's action list (an extension of §7 that worker-ask needs).
    case ask(question: String, onNo: [SimAction]?)
    /// Runs the actions once per case of the assignment (`${case.…}`), loaded with `task.get`.
    case forEachCase([SimAction])
    /// Runs the actions once per open step of the current case (`${step.…}`).
    case forEachStep([SimAction])
    /// Runs the actions only when the assignment's actions have all run.
    case ifFinished([SimAction])
    /// Ends the program with this exit status.
    case exit(Int32)
    /// Prints `[sim] error: <message>` and `[sim] status: error`, abandoning the input's actions.
    case fail(String)
}

/// A rule of `on_input`: the first rule whose regular expression matches somewhere in the input runs.
public struct SimInputRule: Sendable, Equatable {
    public var match: String
    public var actions: [SimAction]

    public init(match: String, actions: [SimAction]) {
        self.match = match
        self.actions = actions
    }

    /// True when `match` (a regular expression) is found anywhere in `input`.
    public func matches(_ input: String) -> Bool {
        guard let re = try? NSRegularExpression(pattern: match, options: []) else { return false }
        let range = NSRange(input.startIndex..<input.endIndex, in: input)
        return re.firstMatch(in: input, options: [], range: range) != nil
    }
}

/// A sim script: a JSON file given with `--script`, or one of the built-in scenarios (docs/sim-agent.md).
///
/// ```json
/// {"name": "worker-basic",
///  "on_start": [],
///  "on_input": [{"match": "codestrator_assignment", "actions": […]}, {"match": ".*", "actions": […]}],
///  "on_error": "continue",
///  "on_finish": "idle"}
/// ```
public struct SimScript: Sendable, Equatable {
    public enum OnError: String, Sendable { case `continue`, fail }
    public enum OnFinish: String, Sendable { case idle, exit }

    public var name: String
    public var onStart: [SimAction]
    public var onInput: [SimInputRule]
    public var onError: OnError
    public var onFinish: OnFinish

    public init(
        name: String, onStart: [SimAction] = [], onInput: [SimInputRule], onError: OnError = .continue,
        onFinish: OnFinish = .idle
    ) {
        self.name = name
        self.onStart = onStart
        self.onInput = onInput
        self.onError = onError
        self.onFinish = onFinish
    }

    /// The actions of the first rule that matches `input`, if any.
    public func rule(for input: String) -> SimInputRule? { onInput.first { $0.matches(input) } }

    /// Parses a script from its JSON text.
    public static func parse(text: String) throws -> SimScript {
        let json: JSON
        do {
            json = try JSON.parse(text)
        } catch {
            throw SimScriptError("script is not JSON (\(error)); expected a JSON object")
        }
        return try parse(json)
    }

    /// Parses a script from a JSON value.
    public static func parse(_ json: JSON) throws -> SimScript {
        guard let o = json.objectValue else {
            throw SimScriptError("script is \(json.typeName); expected a JSON object")
        }
        let known: Set = ["name", "on_start", "on_input", "on_error", "on_finish", "description"]
        for key in o.keys where !known.contains(key) {
            throw SimScriptError(
                "script: unknown field \"\(key)\"; expected name|on_start|on_input|on_error|on_finish")
        }
        let name = o["name"]?.stringValue ?? "script"
        let onStart = try o["on_start"].map { try parseActions($0, at: "on_start") } ?? []
        var rules: [SimInputRule] = []
        if let raw = o["on_input"] {
            guard let list = raw.arrayValue else {
                throw SimScriptError("script: on_input is \(raw.typeName); expected an array of {match, actions}")
            }
            for (i, item) in list.enumerated() {
                let at = "on_input[\(i)]"
                guard let r = item.objectValue else {
                    throw SimScriptError("script: \(at) is \(item.typeName); expected an object {match, actions}")
                }
                let match = r["match"]?.stringValue ?? ".*"
                do {
                    _ = try NSRegularExpression(pattern: match, options: [])
                } catch {
                    throw SimScriptError("script: \(at).match \"\(match)\" is not a regular expression")
                }
                let actions = try r["actions"].map { try parseActions($0, at: at + ".actions") } ?? []
                rules.append(SimInputRule(match: match, actions: actions))
            }
        }
        var onError = OnError.continue
        if let v = o["on_error"] {
            guard let s = v.stringValue, let e = OnError(rawValue: s) else {
                throw SimScriptError("script: on_error is \(describe(v)); expected continue|fail")
            }
            onError = e
        }
        var onFinish = OnFinish.idle
        if let v = o["on_finish"] {
            guard let s = v.stringValue, let f = OnFinish(rawValue: s) else {
                throw SimScriptError("script: on_finish is \(describe(v)); expected idle|exit")
            }
            onFinish = f
        }
        return SimScript(name: name, onStart: onStart, onInput: rules, onError: onError, onFinish: onFinish)
    }

    static let actionNames =
        "say|work|write|append|commit|call|ask|for_each_case|for_each_step|if_finished|exit|fail"

    static func parseActions(_ json: JSON, at path: String) throws -> [SimAction] {
        guard let list = json.arrayValue else {
            throw SimScriptError("script: \(path) is \(json.typeName); expected an array of actions")
        }
        return try list.enumerated().map { try parseAction($0.element, at: "\(path)[\($0.offset)]") }
    }

    static func parseAction(_ json: JSON, at path: String) throws -> SimAction {
        guard let o = json.objectValue, o.pairs.count == 1, let (key, value) = o.pairs.first else {
            throw SimScriptError(
                "script: \(path) is \(describe(json)); expected an object with one key, one of \(actionNames)")
        }
        func string() throws -> String {
            guard let s = value.stringValue else {
                throw SimScriptError("script: \(path).\(key) is \(value.typeName); expected a string")
            }
            return s
        }
        switch key {
        case "say": return .say(try string())
        case "work":
            guard let d = value.doubleValue, d >= 0 else {
                throw SimScriptError("script: \(path).work is \(describe(value)); expected seconds ≥ 0")
            }
            return .work(d)
        case "write", "append":
            guard let w = value.objectValue, let p = w["path"]?.stringValue else {
                throw SimScriptError("script: \(path).\(key) is \(describe(value)); expected {path, content}")
            }
            let content = w["content"]?.stringValue ?? ""
            return .write(path: p, content: content, append: key == "append")
        case "commit": return .commit(try string())
        case "call":
            guard let c = value.objectValue, let m = c["method"]?.stringValue else {
                throw SimScriptError("script: \(path).call is \(describe(value)); expected {method, params, save_as}")
            }
            let params = c["params"] ?? .object(JSONObject())
            guard params.objectValue != nil else {
                throw SimScriptError("script: \(path).call.params is \(params.typeName); expected an object")
            }
            return .call(method: m, params: params, saveAs: c["save_as"]?.stringValue)
        case "ask":
            if let q = value.stringValue { return .ask(question: q, onNo: nil) }
            guard let a = value.objectValue, let q = a["question"]?.stringValue else {
                throw SimScriptError(
                    "script: \(path).ask is \(describe(value)); expected a question, or {question, on_no}")
            }
            return .ask(question: q, onNo: try a["on_no"].map { try parseActions($0, at: path + ".ask.on_no") })
        case "for_each_case": return .forEachCase(try parseActions(value, at: path + ".for_each_case"))
        case "for_each_step": return .forEachStep(try parseActions(value, at: path + ".for_each_step"))
        case "if_finished": return .ifFinished(try parseActions(value, at: path + ".if_finished"))
        case "exit":
            guard let n = value.intValue, (0...255).contains(n) else {
                throw SimScriptError("script: \(path).exit is \(describe(value)); expected an exit status 0–255")
            }
            return .exit(Int32(n))
        case "fail": return .fail(try string())
        default:
            throw SimScriptError("script: \(path) has unknown action \"\(key)\"; expected one of \(actionNames)")
        }
    }

    static func describe(_ v: JSON) -> String {
        let s = v.serialized()
        return s.count > 60 ? String(s.prefix(60)) + "…" : s
    }
}

/// A script that cannot be used, with what was expected.
public struct SimScriptError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension JSON {
    /// A number as a Double (integers included).
    var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}
