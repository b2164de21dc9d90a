import Foundation

/// Key events handed from the reader thread to the runner: a FIFO with one waiting reader.
public final class InputQueue: SimInput, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [KeyEvent] = []
    private var waiter: CheckedContinuation<KeyEvent, Never>?

    public init(_ initial: [KeyEvent] = []) { events = initial }

    /// Adds events (from the reader thread, or a test).
    public func push(_ new: [KeyEvent]) {
        guard !new.isEmpty else { return }
        lock.lock()
        events.append(contentsOf: new)
        let w = waiter
        waiter = nil
        let first = w != nil ? events.removeFirst() : nil
        lock.unlock()
        if let w, let first { w.resume(returning: first) }
    }

    public func next() async -> KeyEvent {
        await withCheckedContinuation { (k: CheckedContinuation<KeyEvent, Never>) in
            lock.lock()
            if !events.isEmpty {
                let e = events.removeFirst()
                lock.unlock()
                k.resume(returning: e)
            } else {
                waiter = k
                lock.unlock()
            }
        }
    }

    public func takeInterrupt() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let i = events.firstIndex(where: { $0 == .escape || $0 == .interrupt }) else { return false }
        events.remove(at: i)
        return true
    }
}
