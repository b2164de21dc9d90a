import Foundation

/// The one source of time (docs/database.md#storage: times come from one injectable clock).
public protocol WallClock: Sendable {
    func now() -> Date
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// Fixed-width UTC timestamps, `2026-03-01T10:00:00.123Z` (24 characters), so text order is time order.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let totalMs = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(totalMs / 1000)
        let ms = Int(totalMs % 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        // Hand-written into one fixed buffer: String(format:), and even an array per field, cost more
        // than the rest of a small write.
        return String(unsafeUninitializedCapacity: 24) { b in
            func put(_ v: Int, at end: Int, width: Int) {
                var x = v
                for i in stride(from: end - 1, through: end - width, by: -1) {
                    b[i] = UInt8(truncatingIfNeeded: 0x30 + x % 10)
                    x /= 10
                }
            }
            put(Int(tmv.tm_year) + 1900, at: 4, width: 4)
            b[4] = 0x2D
            put(Int(tmv.tm_mon) + 1, at: 7, width: 2)
            b[7] = 0x2D
            put(Int(tmv.tm_mday), at: 10, width: 2)
            b[10] = 0x54
            put(Int(tmv.tm_hour), at: 13, width: 2)
            b[13] = 0x3A
            put(Int(tmv.tm_min), at: 16, width: 2)
            b[16] = 0x3A
            put(Int(tmv.tm_sec), at: 19, width: 2)
            b[19] = 0x2E
            put(ms, at: 23, width: 3)
            b[23] = 0x5A
            return 24
        }
    }

    public static func parse(_ s: String) -> Date? {
        let b = Array(s.utf8)
        guard b.count == 24, b[4] == 0x2D, b[10] == 0x54, b[23] == 0x5A else { return nil }
        func num(_ r: Range<Int>) -> Int? { Int(String(decoding: b[r], as: UTF8.self)) }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
            let mi = num(14..<16), let se = num(17..<19), let ms = num(20..<23)
        else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(y - 1900)
        tmv.tm_mon = Int32(mo - 1)
        tmv.tm_mday = Int32(d)
        tmv.tm_hour = Int32(h)
        tmv.tm_min = Int32(mi)
        tmv.tm_sec = Int32(se)
        let t = timegm(&tmv)
        return Date(timeIntervalSince1970: Double(t) + Double(ms) / 1000)
    }
}
