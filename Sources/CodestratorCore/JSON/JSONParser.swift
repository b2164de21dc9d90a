import Foundation

/// Why a text is not JSON.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSON {
    /// Parses one JSON value from UTF-8 bytes (RFC 8259; nesting is limited to 512 levels so that
    /// hostile input cannot exhaust the stack).
    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSON {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf in
            var p = JSONByteParser(buf: buf)
            p.skipWhitespace()
            let v = try p.parseValue(depth: 0)
            p.skipWhitespace()
            guard p.pos == buf.count else { throw p.error("unexpected trailing characters") }
            return v
        }
    }

    public static func parse(_ text: String) throws -> JSON { try parse(Array(text.utf8)) }
}

private struct JSONByteParser {
    let buf: UnsafeBufferPointer<UInt8>
    var pos = 0

    init(buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }

    func error(_ m: String) -> JSONParseError { JSONParseError(message: m, offset: pos) }

    mutating func skipWhitespace() {
        while pos < buf.count {
            switch buf[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> JSON {
        guard depth < 512 else { throw error("nesting too deep") }
        guard pos < buf.count else { throw error("unexpected end of input") }
        switch buf[pos] {
        case 0x7B: return try parseObject(depth: depth)
        case 0x5B: return try parseArray(depth: depth)
        case 0x22: return .string(try parseString())
        case 0x74: try expectWord("true"); return .bool(true)
        case 0x66: try expectWord("false"); return .bool(false)
        case 0x6E: try expectWord("null"); return .null
        case 0x2D, 0x30...0x39: return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    mutating func expectWord(_ w: String) throws {
        let bytes = Array(w.utf8)
        guard pos + bytes.count <= buf.count else { throw error("unexpected end of input") }
        for i in 0..<bytes.count where buf[pos + i] != bytes[i] { throw error("invalid literal") }
        pos += bytes.count
    }

    mutating func parseObject(depth: Int) throws -> JSON {
        pos += 1
        var o = JSONObject()
        skipWhitespace()
        if pos < buf.count, buf[pos] == 0x7D {
            pos += 1
            return .object(o)
        }
        while true {
            skipWhitespace()
            guard pos < buf.count, buf[pos] == 0x22 else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard pos < buf.count, buf[pos] == 0x3A else { throw error("expected ':'") }
            pos += 1
            skipWhitespace()
            let v = try parseValue(depth: depth + 1)
            o[key] = v
            skipWhitespace()
            guard pos < buf.count else { throw error("unexpected end of input") }
            if buf[pos] == 0x2C {
                pos += 1
                continue
            }
            if buf[pos] == 0x7D {
                pos += 1
                return .object(o)
            }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws -> JSON {
        pos += 1
        var a = [JSON]()
        skipWhitespace()
        if pos < buf.count, buf[pos] == 0x5D {
            pos += 1
            return .array(a)
        }
        while true {
            skipWhitespace()
            a.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard pos < buf.count else { throw error("unexpected end of input") }
            if buf[pos] == 0x2C {
                pos += 1
                continue
            }
            if buf[pos] == 0x5D {
                pos += 1
                return .array(a)
            }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        guard pos + 4 <= buf.count else { throw error("bad unicode escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("bad unicode escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    mutating func parseString() throws -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes.
        while pos < buf.count {
            let c = buf[pos]
            if c == 0x22 {
                let s = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == 0x5C || c < 0x20 { break }
            pos += 1
        }
        var bytes = Array(buf[start..<pos])
        while pos < buf.count {
            let c = buf[pos]
            if c == 0x22 {
                pos += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c < 0x20 { throw error("control character in string") }
            if c != 0x5C {
                bytes.append(c)
                pos += 1
                continue
            }
            pos += 1
            guard pos < buf.count else { throw error("unexpected end of input") }
            let e = buf[pos]
            pos += 1
            switch e {
            case 0x22: bytes.append(0x22)
            case 0x5C: bytes.append(0x5C)
            case 0x2F: bytes.append(0x2F)
            case 0x62: bytes.append(0x08)
            case 0x66: bytes.append(0x0C)
            case 0x6E: bytes.append(0x0A)
            case 0x72: bytes.append(0x0D)
            case 0x74: bytes.append(0x09)
            case 0x75:
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    if pos + 1 < buf.count, buf[pos] == 0x5C, buf[pos + 1] == 0x75 {
                        pos += 2
                        let low = try parseHex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    scalar = 0xFFFD
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                bytes.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw error("bad escape")
            }
        }
        throw error("unterminated string")
    }

    mutating func parseNumber() throws -> JSON {
        let start = pos
        var isInt = true
        if buf[pos] == 0x2D { pos += 1 }
        guard pos < buf.count, (0x30...0x39).contains(buf[pos]) else { throw error("bad number") }
        if buf[pos] == 0x30 {
            pos += 1
        } else {
            while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
        }
        if pos < buf.count, buf[pos] == 0x2E {
            isInt = false
            pos += 1
            guard pos < buf.count, (0x30...0x39).contains(buf[pos]) else { throw error("bad number") }
            while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
        }
        if pos < buf.count, buf[pos] == 0x65 || buf[pos] == 0x45 {
            isInt = false
            pos += 1
            if pos < buf.count, buf[pos] == 0x2B || buf[pos] == 0x2D { pos += 1 }
            guard pos < buf.count, (0x30...0x39).contains(buf[pos]) else { throw error("bad number") }
            while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
        if isInt, let i = Int(text) { return .int(i) }
        guard let d = Double(text) else { throw error("bad number") }
        return .double(d)
    }
}
