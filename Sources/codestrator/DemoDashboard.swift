import Foundation

/// `codestrator demo --dashboard`: a `serve --http` process on a free loopback port beside the demo's stdio
/// server, reading the same state, so that the printed link shows the demo's loop live (docs/dashboard.md).
final class DemoDashboard: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(executable: String, repo: String, socket: String, logPath: String) {
        self.logPath = logPath
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--http", "--port", "0", "--repo", repo, "--tmux-socket", socket]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
    }

    /// Starts the server and returns the link it printed (nil if it did not within 20 s).
    func start() throws -> String? {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let marker = "open this link once): "
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8), let r = text.range(of: marker) {
                return String(text[r.upperBound...].prefix { !$0.isNewline })
            }
            if !process.isRunning { return nil }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return nil
    }

    var pid: Int32 { process.processIdentifier }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        // Polled: waitUntilExit can hang when called from an async context on Linux.
        for _ in 0..<100 where process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
    }
}
