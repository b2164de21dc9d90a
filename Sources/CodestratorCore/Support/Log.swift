import Foundation
import Logging
import Synchronization

/// The server's logger: one stderr line per event — time, level, message (docs/protocol-eras.md#stdio-transport:
/// stdout is protocol only). Its level is set once at start from `--log-level` / `CODESTRATOR_LOG_LEVEL`.
public let logger = Logger(label: "codestrator") { _ in StderrLogHandler() }

/// Writes `2026-01-02T03:04:05.678Z INFO message` lines to stderr, one write per line under a lock so
/// lines from concurrent tasks never interleave. The level is shared by every copy of the handler (a
/// `Logger` is a value; the level set at start must reach the copies already made).
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]

    public init() {}

    public var logLevel: Logger.Level {
        get { Self.level.withLock { $0 } }
        set { Self.level.withLock { $0 = newValue } }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let oneLine = "\(event.message)".replacingOccurrences(of: "\n", with: "\\n")
        let line = "\(Timestamp.format(Date())) \(Self.name(event.level)) \(oneLine)\n"
        Self.writeLock.lock()
        defer { Self.writeLock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Sets the level of every `logger` copy, made or still to be made.
    public static func setLevel(_ newLevel: Logger.Level) { level.withLock { $0 = newLevel } }

    /// The level names users pass (`error`, `warn`, `info`, `debug`); nil for any other.
    public static func level(named name: String) -> Logger.Level? {
        switch name {
        case "error": .error
        case "warn": .warning
        case "info": .info
        case "debug": .debug
        default: nil
        }
    }

    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .critical, .error: "ERROR"
        case .warning: "WARN"
        case .notice, .info: "INFO"
        case .debug, .trace: "DEBUG"
        }
    }

    /// The one mutable level, behind a lock (the old static `var` was read and written without one).
    private static let level = Mutex<Logger.Level>(.info)
    private static let writeLock = NSLock()
}
