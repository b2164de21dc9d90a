import Foundation
import Testing

@testable import CodestratorCore
@testable import CodestratorRuntime

/// Issue 16: tmux output under a bare locale, tmux format escaping, case-insensitive lock paths.
@Suite struct HostileInputTests {
    @Test func everyHashIsDoubledForTmuxFormats() {
        #expect(CLITmuxClient.escapeFormat("/r07 C#Sharp") == "/r07 C##Sharp")
        #expect(CLITmuxClient.escapeFormat("#(touch pwned)#{pane_id}##") == "##(touch pwned)##{pane_id}####")
        #expect(CLITmuxClient.escapeFormat("plain") == "plain")
        #expect(CLITmuxClient.sessionTarget("$12") == "$12")
        #expect(CLITmuxClient.sessionTarget("repo-main") == "=repo-main")
        #expect(CLITmuxClient.sessionTarget("$x") == "=$x")
    }

    @Test func paneListingsParseOrThrowNeverLookEmpty() throws {
        let good = "repo-main\t%3\t0\t\t4242\t80\t24\t1\t$2\tcodestrator status\n"
        let panes = try CLITmuxClient.parsePanes(good)
        #expect(panes.count == 1)
        #expect(panes[0].paneId == "%3" && panes[0].statusPane && panes[0].pid == 4242 && panes[0].sessionId == "$2")
        #expect(panes[0].title == "codestrator status")
        // A title holding a tab keeps it.
        #expect(try CLITmuxClient.parsePanes("s\t%1\t1\t3\t\t10\t10\t\t$1\ta\tb\n")[0].title == "a\tb")
        #expect(try CLITmuxClient.parsePanes("").isEmpty)
        // A title with a newline continues on the next line.
        let two = try CLITmuxClient.parsePanes(
            "s\t%1\t0\t\t1\t10\t10\t\t$1\tline1\nline2\ns\t%2\t0\t\t2\t10\t10\t\t$1\tb\n")
        #expect(two.map(\.paneId) == ["%1", "%2"] && two[0].title == "line1\nline2")
        // tmux without -u under LANG=C prints `_` for the tab: that must fail, not read as "no panes".
        #expect(throws: CodestratorError.self) {
            try CLITmuxClient.parsePanes("repo-main_%3_0__4242_80_24__codestrator status\n")
        }
    }

    @Test func lockPathsFoldCaseOnlyWhereTheFileSystemDoes() throws {
        #expect(!LockRecord.overlaps(type: "file", path: "SECRET/key.txt", type: "file", path: "secret/key.txt"))
        #expect(
            LockRecord.overlaps(
                type: "file", path: "SECRET/key.txt", type: "file", path: "secret/key.txt", foldCase: true))
        #expect(
            LockRecord.overlaps(type: "file", path: "Secret/KEY.txt", type: "prefix", path: "secret", foldCase: true))
        let dir = NSTemporaryDirectory() + "cs-case-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/.git", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // This file system tells `.git` from `.GIT`; a second name for the same directory reads as one that folds.
        #expect(!LockPath.caseInsensitive(root: dir))
        try FileManager.default.createSymbolicLink(atPath: dir + "/.GIT", withDestinationPath: ".git")
        #expect(LockPath.caseInsensitive(root: dir))
    }
}
