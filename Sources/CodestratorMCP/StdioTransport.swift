import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One incoming message and how it was framed (the reply uses the same framing).
public struct IncomingMessage: Sendable {
    public enum Payload: Sendable {
        case bytes([UInt8])
        /// The message exceeded the size limit and was discarded.
        case tooLarge
    }
    public let payload: Payload
    public let framed: Bool
}

/// stdio transport (docs/protocol-eras.md#stdio-transport): JSON lines, or `Content-Length` framed messages detected per
/// message; blank lines ignored; messages over 16 MiB rejected. Reads run on a dedicated thread with
/// blocking reads (no polling, 0 % CPU when idle); writes go whole through one serial queue, so
/// concurrent responses never interleave.
public final class StdioTransport: Sendable {
    public static let maxMessage = 16 * 1024 * 1024
    let inFD: Int32
    let outFD: Int32
    /// Output is a socket (a relayed child, RelayListener): written with MSG_NOSIGNAL, so a relay that went
    /// away costs an EPIPE, never the server's life.
    let socket: Bool
    /// Bytes read before the transport existed, handled as the start of the input (ChildRelay.takeReplay).
    let prefix: [UInt8]
    let writeQueue = DispatchQueue(label: "codestrator.stdio.write")

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, socket: Bool = false, prefix: [UInt8] = [])
    {
        inFD = input
        outFD = output
        self.socket = socket
        self.prefix = prefix
    }

    /// The incoming messages; the stream ends at EOF.
    public func messages() -> AsyncStream<IncomingMessage> {
        let (stream, cont) = AsyncStream<IncomingMessage>.makeStream()
        let fd = inFD
        let prefix = self.prefix
        let thread = Thread {
            var reader = FrameReader()
            for m in reader.feed(prefix[...]) { cont.yield(m) }
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if n == 0 { break }
                for m in reader.feed(buf[0..<n]) { cont.yield(m) }
            }
            for m in reader.finish() { cont.yield(m) }
            cont.finish()
        }
        thread.start()
        return stream
    }

    /// Writes one message whole (with its framing) and returns when it is written.
    public func send(_ body: [UInt8], framed: Bool) async {
        var out: [UInt8]
        if framed {
            out = Array("Content-Length: \(body.count)\r\n\r\n".utf8)
            out.append(contentsOf: body)
        } else {
            out = body
            out.append(0x0A)
        }
        await sendRaw(out)
    }

    /// Writes bytes as they are, whole, and returns when they are written.
    public func sendRaw(_ message: [UInt8]) async {
        let fd = outFD
        let socket = self.socket
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            writeQueue.async {
                message.withUnsafeBytes { p in
                    var off = 0
                    while off < p.count {
                        let w =
                            socket
                            ? Glibc.send(fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL))
                            : write(fd, p.baseAddress! + off, p.count - off)
                        if w < 0 {
                            if errno == EINTR { continue }
                            break
                        }
                        off += w
                    }
                }
                k.resume()
            }
        }
    }
}

/// Splits a byte stream into messages: lines, or header-framed bodies.
struct FrameReader {
    var pending: [UInt8] = []
    /// Discarding the rest of an oversized line.
    var discarding = false
    /// Bytes still owed to a framed body.
    var bodyRemaining: Int?
    var scanFrom = 0

    mutating func feed(_ bytes: ArraySlice<UInt8>) -> [IncomingMessage] {
        var out: [IncomingMessage] = []
        if discarding {
            if let nl = bytes.firstIndex(of: 0x0A) {
                discarding = false
                pending.append(contentsOf: bytes[(nl + 1)...])
            }
        } else {
            pending.append(contentsOf: bytes)
        }
        while let m = next() { out.append(m) }
        return out
    }

    mutating func finish() -> [IncomingMessage] {
        var out: [IncomingMessage] = []
        while let m = next() { out.append(m) }
        let rest = pending.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        if bodyRemaining == nil, !rest.isEmpty, !discarding {
            out.append(IncomingMessage(payload: .bytes(Array(rest)), framed: false))
        }
        pending = []
        return out
    }

    mutating func next() -> IncomingMessage? {
        if discarding { return nil }
        if let need = bodyRemaining {
            guard pending.count >= need else { return nil }
            let body = Array(pending[0..<need])
            pending.removeFirst(need)
            bodyRemaining = nil
            scanFrom = 0
            return IncomingMessage(payload: .bytes(body), framed: true)
        }
        // Skip blank lines.
        var start = 0
        while start < pending.count, pending[start] == 0x0A || pending[start] == 0x0D {
            start += 1
        }
        if start > 0 {
            pending.removeFirst(start)
            scanFrom = 0
        }
        guard !pending.isEmpty else { return nil }
        if looksLikeHeader(at: 0) {
            return headerBlock()
        }
        guard let nl = pending[scanFrom...].firstIndex(of: 0x0A) else {
            scanFrom = pending.count
            if pending.count > StdioTransport.maxMessage { return oversized() }
            return nil
        }
        var line = Array(pending[0..<nl])
        if line.last == 0x0D { line.removeLast() }
        pending.removeFirst(nl + 1)
        scanFrom = 0
        if line.count > StdioTransport.maxMessage { return IncomingMessage(payload: .tooLarge, framed: false) }
        return IncomingMessage(payload: .bytes(line), framed: false)
    }

    mutating func oversized() -> IncomingMessage {
        pending = []
        scanFrom = 0
        discarding = true
        return IncomingMessage(payload: .tooLarge, framed: false)
    }

    /// Header lines up to a blank line, then the body they announce. A line that is not a header ends
    /// the block early: the lines before it are answered as one invalid message and reading goes on
    /// from that line, so a stray `name: value` line never swallows the JSON lines after it.
    mutating func headerBlock() -> IncomingMessage? {
        var lineStart = 0
        var length: Int?
        while true {
            guard let nl = pending[lineStart...].firstIndex(of: 0x0A) else {
                if pending.count > 64 * 1024 { return oversized() }
                return nil
            }
            var lineEnd = nl
            if lineEnd > lineStart, pending[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart {
                pending.removeFirst(nl + 1)
                scanFrom = 0
                guard let length, length >= 0 else {
                    return IncomingMessage(payload: .bytes(Array("invalid header".utf8)), framed: true)
                }
                if length > StdioTransport.maxMessage {
                    return IncomingMessage(payload: .tooLarge, framed: true)
                }
                bodyRemaining = length
                return next()
            }
            guard looksLikeHeader(at: lineStart) else {
                pending.removeFirst(lineStart)
                scanFrom = 0
                return IncomingMessage(payload: .bytes(Array("invalid header".utf8)), framed: true)
            }
            let colon = pending[lineStart..<lineEnd].firstIndex(of: 0x3A)!
            let name = String(decoding: pending[lineStart..<colon], as: UTF8.self)
            if name.lowercased() == "content-length" {
                let value = String(decoding: pending[(colon + 1)..<lineEnd], as: UTF8.self)
                length = Int(value.trimmingCharacters(in: .whitespaces))
            }
            lineStart = nl + 1
        }
    }

    /// A header line starts with a token followed by `:` (not `{` or `[`).
    func looksLikeHeader(at start: Int) -> Bool {
        guard start < pending.count, pending[start] != 0x7B, pending[start] != 0x5B else { return false }
        let prefix = pending[start..<min(pending.count, start + 64)]
        guard let colon = prefix.firstIndex(of: 0x3A) else { return false }
        let name = prefix[prefix.startIndex..<colon]
        return !name.isEmpty
            && name.allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D
            }
    }
}
