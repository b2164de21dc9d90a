import Foundation

/// stderr logging, one line per event: time, level, message (docs/protocol.md#stdio-transport: stdout is protocol only).
public enum Log {
    public enum Level: Int, Sendable, Comparable {
        case error = 0, warn, info, debug
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public init?(name: String) {
            switch name {
            case "error": self = .error
            case "warn": self = .warn
            case "info": self = .info
            case "debug": self = .debug
            default: return nil
            }
        }
    }

    nonisolated(unsafe) public static var level: Level = .info
    static let lock = NSLock()

    public static func write(_ l: Level, _ message: String) {
        guard l <= level else { return }
        let name: String
        switch l {
        case .error: name = "ERROR"
        case .warn: name = "WARN"
        case .info: name = "INFO"
        case .debug: name = "DEBUG"
        }
        let oneLine = message.replacingOccurrences(of: "\n", with: "\\n")
        let line = "\(Timestamp.format(Date())) \(name) \(oneLine)\n"
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }

    public static func error(_ m: String) { write(.error, m) }
    public static func warn(_ m: String) { write(.warn, m) }
    public static func info(_ m: String) { write(.info, m) }
    public static func debug(_ m: String) { write(.debug, m) }
}
