import CodestratorCore
import Foundation

/// The MCP protocol over stdio (docs/protocol-eras.md#stdio-transport): reads messages from the `StdioTransport` and hands
/// them to the transport-neutral `RPCHandler`; every reply uses the framing of its request.
public final class MCPServer: Sendable {
    public static let supportedVersions = RPCHandler.supportedVersions

    let handler: RPCHandler
    let transport: StdioTransport
    let state = ConnectionState()

    public init(dispatcher: Dispatcher, transport: StdioTransport, options: ServerOptions) {
        self.handler = RPCHandler(dispatcher: dispatcher, options: options)
        self.transport = transport
    }

    /// Serves until EOF, then lets running calls finish for up to 10 s.
    public func run() async {
        for await message in transport.messages() {
            await handle(message)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while await state.runningCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Handles lines a relay received before its root server went away (ChildRelay): the client already
    /// had their answers, so they only bring this connection to the same state (initialized, era known).
    public func replay(_ lines: [[UInt8]]) async {
        for line in lines {
            await handle(IncomingMessage(payload: .bytes(line), framed: false), answered: false)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while await state.runningCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }

    func handle(_ message: IncomingMessage, answered: Bool = true) async {
        let framed = message.framed
        let transport = self.transport
        let send: @Sendable (JSON) async -> Void = { reply in
            guard answered else { return }
            await transport.send(reply.serializedBytes(), framed: framed)
        }
        let bytes: [UInt8]?
        switch message.payload {
        case .bytes(let b): bytes = b
        case .tooLarge: bytes = nil
        }
        switch RPCMessage.parse(bytes) {
        case .invalid(let reply):
            await send(reply)
        case .ignored:
            break
        case .notification(let method, let params):
            await handler.notification(method, params: params, state: state)
        case .request(let id, let method, let params):
            await handler.request(id: id, method: method, params: params, state: state, send: send)
        }
    }
}
