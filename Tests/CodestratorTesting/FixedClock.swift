import CodestratorCore
import Foundation

/// A clock that stands still until the test moves it, so that leases, grace periods and timestamps are
/// decided by the test and not by how fast the machine is.
public final class FixedClock: WallClock, @unchecked Sendable {
    let lock = NSLock()
    var current: Date

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    public func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }

    public func set(_ date: Date) { lock.withLock { current = date } }
}
