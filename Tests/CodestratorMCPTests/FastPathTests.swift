import CodestratorTesting
import Foundation
import GRDBSQLite
import Testing

@testable import CodestratorCore
@testable import CodestratorMCP

/// The hand-written fast paths must agree with what they replaced.
@Suite struct FastPathTests {
    @Test func trimmingAgreesWithFoundation() {
        let samples = [
            "", " ", "\t", "abc", "  abc  ", "\tabc\n", "\nabc\n", "a b", "\u{00A0}x\u{00A0}", "\u{2028}x\u{2029}",
            "\u{3000}日本\u{3000}", "\r\n", " \u{85}é\u{85} ", "\u{200B}x", "x\u{0B}", "😀 ", "\u{1680}a", "\u{180E}a",
            "\u{2007}a\u{202F}", "\u{FEFF}a",
        ]
        for s in samples {
            #expect(s.trimmedWhitespace() == s.trimmingCharacters(in: .whitespaces), "\(Array(s.unicodeScalars))")
            #expect(
                s.trimmedWhitespace(newlines: true) == s.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(Array(s.unicodeScalars))")
        }
    }

    @Test func integersAndEscapesAreWrittenExactly() throws {
        for i in [0, 1, -1, 9, 10, 99, 100, 12345, -98765, Int.max, Int.min] {
            #expect(JSON.int(i).serialized() == String(i))
        }
        let text = "plain\"mid\\dle\u{0}\u{7F}\ttail é😀"
        let written = JSON.string(text).serialized()
        #expect(written == #""plain\"mid\\dle\u0000\u007f\ttail é😀""#)
        #expect(try JSON.parse(written) == .string(text))
    }

    /// The writer against a character-by-character reference escaper over random text, with
    /// escapes at the start, the end, in runs and next to multi-byte characters.
    @Test func escapingMatchesAReferenceOnRandomText() throws {
        func reference(_ s: String) -> String {
            var r = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": r += "\\\""
                case "\\": r += "\\\\"
                case "\n": r += "\\n"
                case "\r": r += "\\r"
                case "\t": r += "\\t"
                case "\u{8}": r += "\\b"
                case "\u{C}": r += "\\f"
                default:
                    if u.value < 0x20 || u.value == 0x7F {
                        r += "\\u00" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16)
                    } else {
                        r.unicodeScalars.append(u)
                    }
                }
            }
            return r + "\""
        }
        let alphabet: [Character] = [
            "a", "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1F}", "\u{7F}", "é", "😀", "{", " ",
        ]
        var generator = FuzzTests.SeededRandom(state: FuzzTests.seed)
        for _ in 0..<500 {
            let text = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement()! })
            let written = JSON.string(text).serialized()
            #expect(written == reference(text))
            #expect(try JSON.parse(written) == .string(text))
        }
    }

    /// A tool result is serialized once and carried twice: the reply must read exactly as if both
    /// copies had been written from the value, and the wrapper must be invisible to readers.
    @Test func aPreserializedResultWritesTheSameBytesAndReadsAsItsValue() throws {
        let value = JSON.obj([
            "id": 7, "title": "quote \" and \\ and \n", "tags": [JSON.string("a"), JSON.null],
            "nested": JSON.obj(["x": 1.5, "y": JSON.obj([:])]),
        ])
        let wrapped = JSON.preserialized(Preserialized(value))
        #expect(wrapped.serialized() == value.serialized())
        #expect(wrapped.prettyPrinted() == value.prettyPrinted())
        #expect(wrapped == value && value == wrapped)
        #expect(wrapped["title"] == value["title"] && wrapped.objectValue == value.objectValue)
        #expect(wrapped.typeName == "an object")
        let reply = CallOutcome.success(value).toolResult
        let parsed = try JSON.parse(Array(reply.serializedBytes()))
        #expect(parsed["structuredContent"] == value)
        let text = parsed["content"]?.arrayValue?.first?["text"]?.stringValue
        #expect(text == value.serialized())
        #expect(try JSON.parse(Array(text!.utf8)) == value)
    }

    func store() throws -> (Store, String) {
        let d = NSTemporaryDirectory() + "cs-fast-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return (try Store(path: d + "/state.db"), d)
    }

    @Test func textIsBoundWholeAndReadBackExactly() async throws {
        let (s, d) = try store()
        defer { try? FileManager.default.removeItem(atPath: d) }
        for text in ["", "a\u{0}b", String(repeating: "é$(touch x)`;'\"", count: 5000)] {
            let back = try await s.write { tx in
                try tx.execute("UPDATE meta SET updated_at = ? WHERE id = 1", [text])
                return try tx.row("SELECT updated_at, db_version FROM meta WHERE id = 1")
            }
            #expect(back?.optString("updated_at") == text)
            #expect(back?.optInt("db_version") == 0)
            #expect(back?.optString("db_version") == nil)  // a number is not a string
            #expect(back?.hasColumn("nope") == false)
        }
        let asText = try await s.read { tx in try tx.string("SELECT db_version FROM meta") }
        #expect(asText == "0")
    }

    @Test func wrongArgumentCountsAndFailedStatementsRollBack() async throws {
        let (s, d) = try store()
        defer { try? FileManager.default.removeItem(atPath: d) }
        await #expect(throws: CodestratorError.self) {
            try await s.write { tx in try tx.execute("UPDATE meta SET updated_at = ? WHERE id = ?", ["x"]) }
        }
        await #expect(throws: CodestratorError.self) {
            try await s.write { tx in
                try tx.execute("UPDATE meta SET updated_at = 'changed' WHERE id = 1")
                try tx.execute("INSERT INTO meta (id) VALUES (1)")  // duplicate key
            }
        }
        let kept = try await s.read { tx in try tx.string("SELECT updated_at FROM meta WHERE id = 1") }
        #expect(kept != "changed")
        // The connection is usable again after the rollback.
        try await s.write { tx in try tx.execute("UPDATE meta SET updated_at = 'later' WHERE id = 1") }
        #expect(try await s.read { tx in try tx.string("SELECT updated_at FROM meta WHERE id = 1") } == "later")
    }
}

@Suite struct PartialIndexTests {
    @Test func lookupsByParentAndAssigneeStillUseTheirIndexes() async throws {
        let d = NSTemporaryDirectory() + "cs-plan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        let s = try Store(path: d + "/state.db")
        let plans = try await s.read { tx in
            try [
                "SELECT id FROM tasks WHERE parent_id = ?",
                "SELECT status, COUNT(*) AS n FROM tasks WHERE parent_id = ? GROUP BY status",
                "SELECT id FROM tasks WHERE assignee_thread_id = ? AND status = 'in_progress'",
            ].map { sql in
                try tx.rows("EXPLAIN QUERY PLAN " + sql, [1]).map { $0.string("detail") }.joined(separator: "; ")
            }
        }
        #expect(plans[0].contains("tasks_parent"), "\(plans[0])")
        #expect(plans[1].contains("tasks_parent"), "\(plans[1])")
        #expect(plans[2].contains("tasks_assignee_status"), "\(plans[2])")
        let partial = try await s.read { tx in
            try tx.ints("SELECT COUNT(*) FROM pragma_index_list('tasks') WHERE partial = 1")
        }
        #expect(partial == [2])
    }
}

@Suite struct PageSizeTests {
    @Test func newDatabasesUseSmallPagesAndExistingOnesKeepTheirs() async throws {
        let d = NSTemporaryDirectory() + "cs-page-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        let fresh = try Store(path: d + "/new.db")
        #expect(try await fresh.read { tx in try tx.int("PRAGMA page_size") } == Store.newDatabasePageSize)
        #expect(try await fresh.read { tx in try tx.string("PRAGMA journal_mode") } == "wal")
        // A database made elsewhere with the default pages is opened as it is.
        var c: OpaquePointer?
        #expect(sqlite3_open(d + "/old.db", &c) == SQLITE_OK)
        #expect(sqlite3_exec(c, "PRAGMA page_size = 4096; CREATE TABLE x(a);", nil, nil, nil) == SQLITE_OK)
        sqlite3_close(c)
        let old = try Store(path: d + "/old.db")
        #expect(try await old.read { tx in try tx.int("PRAGMA page_size") } == 4096)
        #expect(try await old.read { tx in try tx.string("PRAGMA journal_mode") } == "wal")
    }
}
