import CodestratorCore
import Testing

@testable import CodestratorMCP

/// The child relay's pieces that need no socket (docs/runtime-guide.md#child-relay): the handshake, the relay's reading
/// of its arguments, and what it remembers of the conversation for a successor server.
@Suite struct ChildRelayTests {
    func parse(_ text: String) -> Result<RelayHandshake, HandshakeError> {
        Result { () throws(HandshakeError) in try RelayHandshake.parse(Array(text.utf8)) }
    }

    @Test func aHandshakeRoundTrips() throws {
        let claim = RelayHandshake(
            role: .mergeReviewer, threadId: 7, sessionId: 3, repo: "/r \"x\"", db: "/r/db", tmuxSocket: "cs-1")
        let line = claim.line
        #expect(line.last == 0x0A)
        #expect(try RelayHandshake.parse(Array(line.dropLast())) == claim)
        let bare = RelayHandshake(role: .worker, threadId: 1, sessionId: 2)
        #expect(try RelayHandshake.parse(Array(bare.line.dropLast())) == bare)
    }

    @Test func malformedHandshakesSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("not json", "not a JSON object"),
            ("[1]", "not a JSON object"),
            (#"{"role":"worker","thread_id":1,"session_id":1}"#, "codestrator_relay"),
            (#"{"codestrator_relay":2,"role":"worker","thread_id":1,"session_id":1}"#, "codestrator_relay"),
            (#"{"codestrator_relay":1,"role":"root","thread_id":1,"session_id":1}"#, "child role"),
            (#"{"codestrator_relay":1,"role":"boss","thread_id":1,"session_id":1}"#, "child role"),
            (#"{"codestrator_relay":1,"role":"worker","thread_id":"1","session_id":1}"#, "thread_id"),
            (#"{"codestrator_relay":1,"role":"worker","thread_id":0,"session_id":1}"#, "thread_id"),
            (#"{"codestrator_relay":1,"role":"worker","thread_id":1}"#, "session_id"),
            (#"{"codestrator_relay":1,"role":"worker","thread_id":1,"session_id":1,"db":5}"#, "db must be a string"),
        ]
        for (text, why) in cases {
            guard case .failure(let e) = parse(text) else {
                Issue.record("accepted \(text)")
                continue
            }
            #expect(e.message.contains(why), "\(text): \(e.message)")
        }
    }

    @Test func theRelayReadsItsClaimLikeServeDoes() throws {
        let env = ["CODESTRATOR_SESSION_ID": "4", "CODESTRATOR_DB": "rel.db", "CODESTRATOR_TMUX_SOCKET": "cs-x"]
        let a = try #require(
            RelayArguments(
                ["codestrator", "serve", "--repo", "/repo", "--role", "worker", "--thread-id=9"], env: { env[$0] }))
        #expect(a.socketPath == "/repo/.codestrator/run/session-4.sock")
        #expect(a.handshake.role == .worker && a.handshake.threadId == 9 && a.handshake.sessionId == 4)
        #expect(a.handshake.db?.hasSuffix("/rel.db") == true && a.handshake.db?.hasPrefix("/") == true)
        #expect(a.handshake.tmuxSocket == "cs-x")
        // The flag wins over the variable.
        let b = try #require(
            RelayArguments(
                [
                    "codestrator", "serve", "--repo", "/repo", "--role", "worker", "--thread-id", "9", "--session-id",
                    "5",
                ],
                env: { env[$0] }))
        #expect(b.handshake.sessionId == 5)
    }

    @Test func noClaimMeansNoRelay() {
        let none: (String) -> String? = { _ in nil }
        // No session to relay to.
        #expect(RelayArguments(["c", "serve", "--role", "worker", "--thread-id", "1"], env: none) == nil)
        // A root, an unknown role, a thread id that is not a number, help.
        #expect(RelayArguments(["c", "serve", "--thread-id", "1", "--session-id", "1"], env: none) == nil)
        #expect(
            RelayArguments(["c", "serve", "--role", "x", "--thread-id", "1", "--session-id", "1"], env: none) == nil)
        #expect(
            RelayArguments(["c", "serve", "--role", "worker", "--thread-id", "a", "--session-id", "1"], env: none)
                == nil)
        #expect(
            RelayArguments(
                ["c", "serve", "--role", "worker", "--thread-id", "1", "--session-id", "1", "--help"], env: none)
                == nil)
    }

    @Test func linesAreSplitAcrossChunks() {
        var s = LineSplitter()
        #expect(s.feed(Array("{\"a\":".utf8)).isEmpty)
        #expect(s.feed(Array("1}\n{\"b\"".utf8)) == [Array("{\"a\":1}".utf8)])
        #expect(s.pending == Array("{\"b\"".utf8))
        #expect(s.feed(Array(":2}\n\n".utf8)) == [Array("{\"b\":2}".utf8), []])
        #expect(s.pending.isEmpty)
    }

    @Test func theLedgerKeepsTheHandshakeAndWhatIsUnanswered() throws {
        var l = RelayLedger()
        let initialize = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#
        l.fromClient(Array(initialize.utf8))
        l.fromServer(Array(#"{"jsonrpc":"2.0","id":0,"result":{}}"#.utf8))
        l.fromClient(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8))
        l.fromClient(Array(#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{}}"#.utf8))
        l.fromClient(Array(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{}}"#.utf8))
        l.fromClient(Array(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#.utf8))
        // A server's own request to the client is no answer; a cancelled request is owed nothing.
        l.fromServer(Array(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#.utf8))
        l.fromClient(Array(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#.utf8))
        l.fromServer(Array("not json".utf8))
        #expect(l.handshakeLines.count == 2)
        #expect(l.handshakeLines.first == Array(initialize.utf8))
        let replies = try l.lostReplies().map { try JSON.parse($0) }
        #expect(replies.map { $0["id"] } == [.string("a"), .int(2)])
        #expect(replies.allSatisfy { $0["error"]?["code"]?.intValue == -32603 })
        l.fromServer(Array(#"{"jsonrpc":"2.0","id":"a","result":{}}"#.utf8))
        #expect(l.lostReplies().count == 1)
    }
}
