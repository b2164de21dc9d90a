import Testing

@testable import CodestratorCore

/// `launch_command` is shown to users as a line they could paste into a shell: plain words stay as they are,
/// anything else is single-quoted with embedded quotes closed and reopened.
@Suite struct ShellQuoteTests {
    @Test func plainWordsStayAsTheyAre() {
        for word in ["codex", "--model=gpt-5", "/usr/bin/codestrator", "a_b.c:d@e%f+g,h", "X9"] {
            #expect(ShellQuote.quote(word) == word)
        }
    }

    @Test func everythingElseIsQuoted() {
        #expect(ShellQuote.quote("") == "''")
        #expect(ShellQuote.quote("two words") == "'two words'")
        #expect(ShellQuote.quote("it's") == "'it'\\''s'")
        #expect(ShellQuote.quote("$HOME") == "'$HOME'")
        #expect(ShellQuote.quote("café") == "'café'")
        #expect(ShellQuote.quote("a\nb") == "'a\nb'")
        #expect(ShellQuote.quote("a;b") == "'a;b'")
    }

    @Test func joinQuotesEachArgument() {
        #expect(ShellQuote.join(["sh", "-c", "echo hi"]) == "sh -c 'echo hi'")
    }
}
