import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// A seeded generator over the framing, the JSON parser and the params of every method: no crash, no
/// hang, every call answered, and no shell ever runs a hostile string (a canary file would appear).
@Suite(.serialized) struct FuzzTests {
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let hostile = [
        "$(touch pwned)", "`touch pwned`", "; touch pwned", "' ; touch pwned ; '", "\" && touch pwned", "../../..",
        "-rf",
        "--upload-pack=touch pwned", "a\nb", "\u{1B}[2J", "%s%n", "é漢字🙂", String(repeating: "x", count: 5000), "", " ",
        ".",
    ]

    static func randomValue(_ r: inout SeededRandom, depth: Int = 0) -> JSON {
        switch Int.random(in: 0..<9, using: &r) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &r))
        case 2: return .int(Int.random(in: -5...5, using: &r))
        case 3: return .int(Int.random(in: Int.min...Int.max, using: &r))
        case 4: return .double(Double.random(in: -1e6...1e6, using: &r))
        case 5, 6: return .string(hostile.randomElement(using: &r)!)
        case 7 where depth < 3:
            return .array((0..<Int.random(in: 0...3, using: &r)).map { _ in randomValue(&r, depth: depth + 1) })
        default:
            if depth >= 3 { return .string("deep") }
            var o = JSONObject()
            for _ in 0..<Int.random(in: 0...3, using: &r) {
                o[hostile.randomElement(using: &r)!] = randomValue(&r, depth: depth + 1)
            }
            return .object(o)
        }
    }

    /// Bounded by default; CS_FUZZ_ITERATIONS and CS_FUZZ_SEED make longer or other runs (docs/testing.md).
    static let iterations = max(
        1, ProcessInfo.processInfo.environment["CS_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 1500)
    static let seed = ProcessInfo.processInfo.environment["CS_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_261_125

    /// Methods that wait on real time (readiness, idle waits) are left to the integration tests.
    static let slow: Set<String> = [
        "thread.child.spawn", "thread.child.directive", "thread.child.wait_status", "thread.child.stop",
        "merge.main.acquire_lock", "merge.review.request_auto", "runtime.tmux.ensure",
    ]

    @Test func everyMethodAnswersRandomParamsWithoutCrashingOrRunningAShell() async throws {
        let repo = try await TestRepo.make()
        defer { repo.cleanUp() }
        _ = try await repo.ok("session.open", ["user_request": "fuzz", "agent_role": "sim"])
        var r = SeededRandom(state: Self.seed)
        var answered = 0
        let methods = MethodRegistry.standard.methods.filter { !Self.slow.contains($0.name) }
        for _ in 0..<Self.iterations {
            let def = methods.randomElement(using: &r)!
            var params = JSONObject()
            for spec in (def.params ?? []) where Bool.random(using: &r) {
                params[spec.name] = Self.randomValue(&r)
            }
            if Int.random(in: 0..<4, using: &r) == 0 {
                params[Self.hostile.randomElement(using: &r)!] = Self.randomValue(&r)
            }
            let arguments: JSON = .obj(["method": def.name, "params": JSON.object(params)])
            let result = try await repo.dispatcher.callTool(name: def.group.rawValue, arguments: arguments)
            #expect(result["content"] != nil)
            answered += 1
        }
        #expect(answered == Self.iterations)
        for dir in [repo.path, FileManager.default.currentDirectoryPath, NSTemporaryDirectory()] {
            #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"), "a shell ran in \(dir)")
        }
    }

    @Test func framingAndParserSurviveRandomBytes() {
        var r = SeededRandom(state: Self.seed &+ 7)
        let pieces: [[UInt8]] = [
            Array("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n".utf8), Array("Content-Length: 5\r\n\r\n".utf8),
            Array("[1,2,".utf8), [0, 0xFF, 0xC3], Array("\r\n\n".utf8), Array("{\"a\":\"\\u00".utf8),
            Array(repeating: 0x5B, count: 700),
        ]
        for _ in 0..<Self.iterations + 500 {
            var reader = FrameReader()
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...6, using: &r) {
                if Bool.random(using: &r) {
                    bytes += pieces.randomElement(using: &r)!
                } else {
                    bytes += (0..<Int.random(in: 0...40, using: &r)).map { _ in UInt8.random(in: 0...255, using: &r) }
                }
            }
            var messages = reader.feed(ArraySlice(bytes))
            messages += reader.finish()
            for m in messages {
                if case .bytes(let b) = m.payload { _ = try? JSON.parse(b) }
            }
        }
    }
}
