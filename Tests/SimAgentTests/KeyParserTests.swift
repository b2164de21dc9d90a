import Testing

@testable import SimAgent

@Suite struct KeyParserTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func typedTextAndEnter() {
        var p = KeyParser()
        #expect(p.feed(bytes("ab\r")) == [.text("ab"), .enter])
        #expect(p.feed(bytes("c\n")) == [.text("c"), .enter])
    }

    @Test func crlfIsOneEnter() {
        var p = KeyParser()
        #expect(p.feed(bytes("x\r\ny\r")) == [.text("x"), .enter, .text("y"), .enter])
    }

    @Test func aBracketedPasteIsOneEventTakenVerbatim() {
        var p = KeyParser()
        let events = p.feed(bytes("\u{1B}[200~line 1\nline 2\r\ttab \u{1B}x ü\u{1B}[201~\r"))
        #expect(events == [.paste("line 1\nline 2\r\ttab \u{1B}x ü"), .enter])
    }

    @Test func aPasteSplitAcrossReadsByteByByte() {
        var p = KeyParser()
        var events: [KeyEvent] = []
        for b in bytes("\u{1B}[200~a\nb\u{1B}[201~") { events += p.feed([b]) }
        #expect(events == [.paste("a\nb")])
        #expect(!p.inPaste)
    }

    @Test func aLoneEscapeWaitsForTheTimeout() {
        var p = KeyParser()
        #expect(p.feed([0x1B]) == [])
        #expect(p.escapePending)
        #expect(p.escapeTimedOut() == [.escape])
        #expect(!p.escapePending)
        #expect(p.escapeTimedOut() == [])
    }

    @Test func escapeSequencesOfOtherKeysAreDropped() {
        var p = KeyParser()
        #expect(p.feed(bytes("\u{1B}[A\u{1B}[1;5C\u{1B}OPz")) == [.text("z")])
    }

    @Test func escapeFollowedByAKeyIsEscapeThenTheKey() {
        var p = KeyParser()
        #expect(p.feed(bytes("\u{1B}q")) == [.escape, .text("q")])
        #expect(p.feed([0x1B, 0x1B]) == [.escape])
        #expect(p.escapeTimedOut() == [.escape])
    }

    @Test func controlKeys() {
        var p = KeyParser()
        #expect(p.feed([0x03, 0x04, 0x7F, 0x08, 0x01]) == [.interrupt, .endOfText, .backspace, .backspace])
    }

    @Test func aCharacterSplitAcrossReadsIsKeptWhole() {
        var p = KeyParser()
        #expect(p.feed([0x61, 0xC3]) == [.text("a")])
        #expect(p.feed([0xA9]) == [.text("é")])
        #expect(p.feed([0xF0, 0x9F]) == [])
        #expect(p.feed([0x98, 0x80, 0x0D]) == [.text("😀"), .enter])
    }
}
