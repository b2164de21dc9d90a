import Testing

@testable import CodestratorCore

@Suite struct ParamValidatorTests {
    func message(_ params: JSON, _ specs: [ParamSpec], method: String = "m") -> String? {
        do {
            _ = try ParamValidator.validate(params.objectValue!, specs: specs)
            return nil
        } catch let e as CodestratorError {
            return e.message(method: method)
        } catch {
            return "\(error)"
        }
    }

    @Test func stringForIntegerIsRejectedWithTheSpecMessage() {
        let m = message(["case_id": "12"], [ParamSpec("case_id", .id, required: true)], method: "step.check")
        #expect(m == #"step.check: field "case_id" is the string "12"; expected an integer"#)
    }

    @Test func unknownEnumValueListsTheChoices() {
        let spec = ParamSpec("level", .enumeration(["epic", "feature", "testgroup", "case", "step"]), required: true)
        #expect(
            message(["level": "story"], [spec], method: "task.create")
                == #"task.create: field "level" is "story"; expected one of epic|feature|testgroup|case|step"#)
    }

    @Test func rangesAreCheckedNeverClamped() {
        let spec = ParamSpec("timeout_seconds", .int(min: 1, max: 600))
        #expect(
            message(["timeout_seconds": 1200], [spec], method: "thread.child.wait_status")
                == #"thread.child.wait_status: field "timeout_seconds" is 1200; expected an integer from 1 to 600"#)
    }

    @Test func booleansAreStrict() {
        #expect(message(["force": "true"], [ParamSpec("force", .bool)]) != nil)
        #expect(message(["force": 1], [ParamSpec("force", .bool)]) != nil)
        #expect(message(["force": true], [ParamSpec("force", .bool)]) == nil)
    }

    @Test func titlesAreSingleLinesAndFreeTextIsVerbatim() throws {
        #expect(message(["title": "a\nb"], [ParamSpec("title", .title(maxChars: 300))]) != nil)
        let (p, _) = try ParamValidator.validate(
            ["t": "  $(touch pwned); `x` \n"], specs: [ParamSpec("t", .text(maxBytes: 100))])
        #expect(p.string("t") == "  $(touch pwned); `x` \n")
        #expect(
            message(["t": .string(String(repeating: "x", count: 101))], [ParamSpec("t", .text(maxBytes: 100))]) != nil)
    }

    @Test func missingRequiredAndNullMeanMissing() {
        #expect(
            message([:], [ParamSpec("title", .title(maxChars: 10), required: true)])?.contains("is required") == true)
        #expect(message(["title": nil], [ParamSpec("title", .title(maxChars: 10), required: true)]) != nil)
    }

    @Test func unknownKeysAreWarnedWithAGuess() throws {
        let (_, warnings) = try ParamValidator.validate(["sesion_id": 1], specs: [ParamSpec("session_id", .id)])
        #expect(warnings == [#"unknown parameter "sesion_id" ignored (did you mean "session_id"?)"#])
    }

    @Test func branchNamesRefuseShellAndGitMetacharacters() {
        #expect(BranchName.problem("fix login") != nil)
        #expect(BranchName.problem("-x") != nil)
        #expect(BranchName.problem("a..b") != nil)
        #expect(BranchName.problem("x.lock") != nil)
        #expect(BranchName.problem("codestrator/fix-login") == nil)
        // A short branch name only: refs/heads/main would create refs/heads/refs/heads/main.
        #expect(BranchName.problem("refs/heads/main") != nil)
        #expect(BranchName.problem("HEAD") != nil)
        #expect(BranchName.problem("refsx/y") == nil)
    }

    @Test func repositoryPathsAreNormalisedAndMayNotLeave() throws {
        let root = "/tmp"
        #expect(try RepoPath.normalize("./a//b/", root: root, field: "f") == "a/b")
        #expect(try RepoPath.normalize("/tmp/a/b", root: root, field: "f") == "a/b")
        #expect(throws: CodestratorError.self) { try RepoPath.normalize("../../etc/passwd", root: root, field: "f") }
        #expect(throws: CodestratorError.self) { try RepoPath.normalize("/etc/passwd", root: root, field: "f") }
    }
}

@Suite struct NearMissTests {
    @Test func aNearMissOnAWriteIsRefusedWithTheGuess() {
        let specs = [ParamSpec("user_request", .text(maxBytes: 100)), ParamSpec("intent", .name(maxChars: 20))]
        for (key, guess) in [("userRequest", "user_request"), ("User-Request", "user_request"), ("intnet", "intent")] {
            #expect(throws: CodestratorError.self) {
                try ParamValidator.validate([key: "x"], specs: specs, refuseNearMisses: true)
            }
            #expect(ParamValidator.nearMiss(key, in: specs.map(\.name)) == guess)
        }
        // Far from every declared key: a warning, and the key is kept for the method to look at.
        let (p, warnings) = try! ParamValidator.validate(["node_id": 3], specs: specs, refuseNearMisses: true)
        #expect(warnings == [#"unknown parameter "node_id" ignored"#])
        #expect(p.unknownKeys == ["node_id"])
    }
}
