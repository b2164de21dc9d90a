import Testing

@testable import CodestratorCore

@Suite struct JSONTests {
    @Test func objectsKeepKeyOrderAndTextIsCompactWithoutHTMLEscaping() throws {
        let v = try JSON.parse(#"{"z":1,"a":"</b> & é","m":[true,null,2.5]}"#)
        #expect(v.serialized() == #"{"z":1,"a":"</b> & é","m":[true,null,2.5]}"#)
    }

    @Test func integersStayDistinctFromFractions() throws {
        #expect(try JSON.parse("3") == .int(3))
        #expect(try JSON.parse("3.0").intValue == 3)
        #expect(try JSON.parse("3.5").intValue == nil)
        #expect(try JSON.parse(#""3""#).intValue == nil)
    }

    @Test func controlCharactersAreEscaped() throws {
        let s = JSON.string("a\nb\u{1}\"\\").serialized()
        #expect(s == #""a\nb\u0001\"\\""#)
        #expect(try JSON.parse(s) == .string("a\nb\u{1}\"\\"))
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func hostileInputIsRejectedNotCrashed() {
        #expect(throws: JSONParseError.self) { try JSON.parse(String(repeating: "[", count: 100_000)) }
        #expect(throws: JSONParseError.self) { try JSON.parse("{\"a\":}") }
        #expect(throws: JSONParseError.self) { try JSON.parse("{} x") }
        #expect(throws: JSONParseError.self) { try JSON.parse("\"unterminated") }
    }
}

@Suite struct SlugTests {
    @Test(arguments: [
        ("Improve the gallery experience for artist profile pages", "improve-gallery"),
        ("Fix login", "fix-login"),
        ("Auth Flow v2", "auth-flow"),
        ("the of", "the-of"),
        ("로그인 수정", "work"),
        ("$(touch pwned)", "touch-pwned"),
        ("../../etc/passwd", "etc-passwd"),
    ])
    func slugPolicyMatchesTheSpecExamples(input: String, expected: String) {
        #expect(Slug.derive(preferred: input) == expected)
    }

    @Test func longWordsAreCutTo20Letters() {
        #expect(Slug.derive(preferred: String(repeating: "x", count: 60)) == String(repeating: "x", count: 20))
    }

    @Test func collisionCandidatesRunTo99() {
        let c = Slug.candidates("login")
        #expect(c.first == "login")
        #expect(c[1] == "login-2")
        #expect(c.last == "login-99")
    }

    @Test func viewerNameJoinsRepositoryAndWorktree() {
        #expect(Slug.viewerSessionName(repository: "My_App", worktree: "auth-flow") == "my-app-auth-flow")
        #expect(Slug.viewerSessionName(repository: "", worktree: "") == "repo-worktree")
    }
}

@Suite struct RollupTests {
    @Test func containerStatusIsDerivedFromChildren() {
        #expect(Rollup.derive(cancelled: true, children: ["done"]) == .cancelled)
        #expect(Rollup.derive(cancelled: false, children: []) == .todo)
        #expect(Rollup.derive(cancelled: false, children: ["done", "cancelled"]) == .done)
        #expect(Rollup.derive(cancelled: false, children: ["done", "todo"]) == .inProgress)
        #expect(Rollup.derive(cancelled: false, children: ["blocked", "todo"]) == .blocked)
        #expect(Rollup.derive(cancelled: false, children: ["cancelled"]) == .todo)
    }

    @Test func caseTransitionsFollowTheTable() {
        #expect(TaskStatus.todo.canMove(to: .inProgress))
        #expect(!TaskStatus.todo.canMove(to: .done))
        #expect(TaskStatus.done.canMove(to: .inProgress))
        #expect(!StepStatus.done.canMove(to: .todo))
        #expect(!SessionStatus.closed.canMove(to: .active))
    }
}
