import Foundation

extension JSON {
    /// Compact JSON text: no indentation, no HTML escaping, keys in order.
    public func serialized() -> String {
        var out = [UInt8]()
        out.reserveCapacity(2048)
        write(to: &out, indent: nil, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact JSON as UTF-8 bytes.
    public func serializedBytes() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(4096)
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Indented JSON (two spaces), for humans (`--pretty`).
    public func prettyPrinted() -> String {
        var out = [UInt8]()
        write(to: &out, indent: 2, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8], indent: Int?, level: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): JSON.writeInt(i, to: &out)
        case .double(let d):
            if d.isFinite {
                if d.rounded() == d && abs(d) < 1e15 {
                    JSON.writeInt(Int(d), to: &out)
                } else {
                    out.append(contentsOf: "\(d)".utf8)
                }
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let s): JSON.writeString(s, to: &out)
        case .preserialized(let p):
            if indent == nil {
                out.append(contentsOf: p.bytes)
            } else {
                p.value.write(to: &out, indent: indent, level: level)
            }
        case .array(let a):
            if a.isEmpty {
                out.append(contentsOf: [0x5B, 0x5D])
                return
            }
            out.append(0x5B)
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                JSON.newline(&out, indent, level + 1)
                v.write(to: &out, indent: indent, level: level + 1)
            }
            JSON.newline(&out, indent, level)
            out.append(0x5D)
        case .object(let o):
            if o.isEmpty {
                out.append(contentsOf: [0x7B, 0x7D])
                return
            }
            out.append(0x7B)
            for (i, pair) in o.pairs.enumerated() {
                if i > 0 { out.append(0x2C) }
                JSON.newline(&out, indent, level + 1)
                JSON.writeString(pair.key, to: &out)
                out.append(0x3A)
                if indent != nil { out.append(0x20) }
                pair.value.write(to: &out, indent: indent, level: level + 1)
            }
            JSON.newline(&out, indent, level)
            out.append(0x7D)
        }
    }

    private static func newline(_ out: inout [UInt8], _ indent: Int?, _ level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Decimal digits without an intermediate String.
    static func writeInt(_ i: Int, to out: inout [UInt8]) {
        if i == 0 {
            out.append(0x30)
            return
        }
        if i < 0 { out.append(0x2D) }
        var n = i.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var start = 20
            while n > 0 {
                start -= 1
                buf[start] = UInt8(0x30 + n % 10)
                n /= 10
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start...]))
        }
    }

    /// A JSON string. Text that needs no escape (most keys and values) is copied whole; text that
    /// does (a serialized result carried as `content` text is full of quotes) is escaped byte by
    /// byte into one buffer of the exact size, since copying many short runs cost more.
    static func writeString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { bytes in
            var first = 0
            while first < bytes.count && !needsEscape(bytes[first]) { first += 1 }
            out.append(0x22)
            if first == bytes.count {
                out.append(contentsOf: bytes)
                out.append(0x22)
                return
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[0..<first]))
            let rest = UnsafeBufferPointer(rebasing: bytes[first...])
            // The exact length first, so a large text (a 100-row page as `content`) needs no worst-case buffer.
            var length = rest.count + 1
            for b in rest where needsEscape(b) { length += shortEscape(b) != 0 ? 1 : 5 }
            let escaped = [UInt8](unsafeUninitializedCapacity: length) { buf, count in
                var n = 0
                for b in rest {
                    guard needsEscape(b) else {
                        buf[n] = b
                        n += 1
                        continue
                    }
                    buf[n] = 0x5C
                    let short = shortEscape(b)
                    if short != 0 {
                        buf[n + 1] = short
                        n += 2
                    } else {
                        buf[n + 1] = 0x75
                        buf[n + 2] = 0x30
                        buf[n + 3] = 0x30
                        buf[n + 4] = hex[Int(b >> 4)]
                        buf[n + 5] = hex[Int(b & 0xF)]
                        n += 6
                    }
                }
                buf[n] = 0x22
                count = n + 1
            }
            out.append(contentsOf: escaped)
        }
    }

    @inline(__always) private static func needsEscape(_ b: UInt8) -> Bool {
        b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F
    }

    /// The letter of a two-byte escape (`\n` → `n`), or 0 for a byte written as `\u00XX`.
    @inline(__always) private static func shortEscape(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x22: return 0x22
        case 0x5C: return 0x5C
        case 0x0A: return 0x6E
        case 0x0D: return 0x72
        case 0x09: return 0x74
        case 0x08: return 0x62
        case 0x0C: return 0x66
        default: return 0
        }
    }
}
