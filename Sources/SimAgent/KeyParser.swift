import Foundation

/// What the keyboard (or a paste) produced.
public enum KeyEvent: Sendable, Equatable {
    /// Typed text (one or more printable characters).
    case text(String)
    /// A bracketed paste, verbatim (newlines included).
    case paste(String)
    /// Enter (`\r` or `\n` outside a paste).
    case enter
    /// A lone Escape.
    case escape
    /// C-c.
    case interrupt
    /// C-d.
    case endOfText
    /// Backspace (DEL or C-h).
    case backspace
    /// The input closed (the terminal went away).
    case closed
}

/// Turns terminal input bytes into key events: bracketed pastes (`ESC[200~` … `ESC[201~`) are one event taken
/// verbatim; a lone `ESC` is Escape once `escapeTimedOut()` says nothing followed it (the reader calls it after
/// ~50 ms of silence); other escape sequences (arrows, function keys) are dropped.
public struct KeyParser: Sendable {
    enum State: Equatable {
        case ground
        /// After `ESC`.
        case escape
        /// Inside `ESC [ …` until a final byte.
        case csi([UInt8])
        /// After `ESC O`: one more byte.
        case ss3
        /// Inside a bracketed paste.
        case paste
    }

    var state = State.ground
    var text: [UInt8] = []
    var afterCR = false
    var pasted: [UInt8] = []

    static let pasteEnd: [UInt8] = [0x1B, 0x5B, 0x32, 0x30, 0x31, 0x7E]  // ESC [ 2 0 1 ~

    public init() {}

    /// True while an `ESC` waits to see whether a sequence follows.
    public var escapePending: Bool { state == .escape }

    /// True inside a bracketed paste (no timeout applies then).
    public var inPaste: Bool { state == .paste }

    /// Feeds bytes; returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [KeyEvent] {
        var out: [KeyEvent] = []
        for b in bytes { step(b, &out) }
        flushText(&out, keepPartial: true)
        return out
    }

    /// No byte followed a pending `ESC` in time: it was the Escape key.
    public mutating func escapeTimedOut() -> [KeyEvent] {
        guard state == .escape else { return [] }
        state = .ground
        return [.escape]
    }

    /// Emits the typed text; with `keepPartial`, a UTF-8 sequence cut at the end of a read waits for its rest.
    mutating func flushText(_ out: inout [KeyEvent], keepPartial: Bool = false) {
        guard !text.isEmpty else { return }
        var cut = text.count
        if keepPartial {
            // Walk back over continuation bytes to the lead byte; keep it back if its sequence is incomplete.
            var i = text.count - 1
            while i > 0, text[i] & 0xC0 == 0x80, text.count - i < 4 { i -= 1 }
            let lead = text[i]
            let need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if text.count - i < need { cut = i }
        }
        guard cut > 0 else { return }
        out.append(.text(String(decoding: text[0..<cut], as: UTF8.self)))
        text.removeFirst(cut)
    }

    mutating func step(_ b: UInt8, _ out: inout [KeyEvent]) {
        // A terminal sending CR LF for one Enter submits once.
        let crlf = afterCR && b == 0x0A && state == .ground
        afterCR = b == 0x0D && state == .ground
        if crlf { return }
        switch state {
        case .paste:
            pasted.append(b)
            if pasted.count >= Self.pasteEnd.count, pasted.suffix(Self.pasteEnd.count).elementsEqual(Self.pasteEnd) {
                pasted.removeLast(Self.pasteEnd.count)
                out.append(.paste(String(decoding: pasted, as: UTF8.self)))
                pasted.removeAll()
                state = .ground
            }
        case .escape:
            switch b {
            case 0x5B:  // [
                state = .csi([])
            case 0x4F:  // O
                state = .ss3
            case 0x1B:
                out.append(.escape)
            default:
                // Alt+key: the Escape, then the key itself.
                out.append(.escape)
                state = .ground
                step(b, &out)
            }
        case .csi(var params):
            if (0x40...0x7E).contains(b) {
                state = .ground
                if b == 0x7E, params == Array("200".utf8) {
                    state = .paste
                    pasted.removeAll()
                }
                // Other sequences (arrows, keypad, focus) are not keys the sim uses.
            } else {
                params.append(b)
                state = params.count > 32 ? .ground : .csi(params)
            }
        case .ss3:
            state = .ground
        case .ground:
            switch b {
            case 0x1B:
                flushText(&out)
                state = .escape
            case 0x0D, 0x0A:
                flushText(&out)
                out.append(.enter)
            case 0x03:
                flushText(&out)
                out.append(.interrupt)
            case 0x04:
                flushText(&out)
                out.append(.endOfText)
            case 0x7F, 0x08:
                flushText(&out)
                out.append(.backspace)
            case 0x09:
                text.append(b)
            case 0x00..<0x20:
                break  // other control keys are ignored
            default:
                text.append(b)
            }
        }
    }
}
