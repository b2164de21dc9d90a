import Foundation
import Testing

@testable import CodestratorRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// The runner against real programs: the cases a sequential "write stdin, then read stdout" runner gets wrong.
@Suite struct ProcessRunnerTests {
    /// 8 MB through `cat`: it fills its stdout pipe long before it has read its stdin, so both must move at once.
    @Test func largeInputAndLargeOutputAtOnceDoNotDeadlock() async throws {
        let input = (0..<(8 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 13) }
        let r = try await ProcessRunner.run(["cat"], timeout: 30, outputLimit: 16 * 1024 * 1024, stdin: input)
        #expect(!r.timedOut)
        #expect(r.ok)
        #expect(r.stdout.count == input.count)
        #expect(r.stdout == input)
    }

    @Test func aTimeoutKillsTheGrandchildrenToo() async throws {
        let start = ContinuousClock.now
        let r = try await ProcessRunner.run(["sh", "-c", "sleep 30 & echo $!; wait"], timeout: 0.5)
        #expect(r.timedOut)
        #expect(!r.ok)
        #expect(r.signal == SIGKILL)
        #expect(start.duration(to: .now) < .seconds(5))
        let grandchild = try #require(pid_t(r.out.trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed with the group; its new parent reaps it at once, after which the pid is gone.
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(grandchild, 0) != 0 || Self.isZombie(grandchild)
            if !gone { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(gone)
    }

    @Test func outputPastTheCapStopsTheProgram() async throws {
        let start = ContinuousClock.now
        let r = try await ProcessRunner.run(["sh", "-c", "yes; sleep 30"], timeout: 20, outputLimit: 10_000)
        #expect(r.outputExceeded)
        #expect(!r.timedOut)
        #expect(r.stdout.count > 10_000)
        #expect(r.stdout.count <= 10_000 + 65536)
        #expect(start.duration(to: .now) < .seconds(5))
    }

    @Test func exitStatusAndBothStreams() async throws {
        let r = try await ProcessRunner.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(r.exitStatus == 3)
        #expect(r.signal == nil)
        #expect(!r.ok)
        #expect(r.out == "out\n")
        #expect(r.err == "err\n")
    }

    /// The program exits without reading: the rest of the input is dropped (EPIPE), not a crash or a hang.
    @Test func inputNobodyReadsIsDropped() async throws {
        let r = try await ProcessRunner.run(["true"], timeout: 10, stdin: [UInt8](repeating: 65, count: 4 << 20))
        #expect(r.ok)
        #expect(!r.timedOut)
    }

    /// Many programs at once share the one watcher thread without waiting for each other: 40 programs of 1 s
    /// each would take 40 s one after another; the bound is loose so a loaded machine does not fail it.
    @Test func manyProgramsRunConcurrently() async throws {
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for i in 0..<40 { group.addTask { try await ProcessRunner.run(["sh", "-c", "sleep 1; echo \(i)"]) } }
            return try await group.reduce(into: [ProcessResult]()) { $0.append($1) }
        }
        #expect(results.count == 40)
        #expect(Set(results.map(\.out)) == Set((0..<40).map { "\($0)\n" }))
        #expect(start.duration(to: .now) < .seconds(20))
    }

    @Test func runBlockingWorksOutsideAsyncCode() throws {
        let r = try ProcessRunner.runBlocking(
            ["sh", "-c", "cat; echo done"], environment: nil, timeout: 10, outputLimit: 4096, stdin: Array("hi ".utf8))
        #expect(r.out == "hi done\n")
    }

    @Test func aMissingProgramThrows() async {
        await #expect(throws: ProcessRunner.Failure.self) {
            try await ProcessRunner.run(["codestrator-no-such-program"])
        }
    }

    #if os(Linux)
        /// The watcher learns of exits through pidfds on Linux (the fallback polls `waitpid` every 1 ms).
        @Test func pidfdsAreAvailableOnLinux() {
            let fd = PidFD.open(getpid())
            #expect(fd >= 0)
            if fd >= 0 { close(fd) }
        }
    #endif

    static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}
