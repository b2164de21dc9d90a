import CodestratorCore

/// `ProgramProbe` over `ProcessRunner`: PATH lookup, and the program run as argv with a time limit that
/// kills its process group.
public struct CLIProgramProbe: ProgramProbe {
    public init() {}

    public func locate(_ program: String) -> String? { ProcessRunner.which(program) }

    public func output(_ argv: [String], timeout: Double) async -> String? {
        guard let r = try? await ProcessRunner.run(argv, timeout: timeout, outputLimit: 64 * 1024), r.ok else {
            return nil
        }
        return r.out
    }
}
