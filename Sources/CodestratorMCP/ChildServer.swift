#if canImport(Glibc)
    import Glibc
#endif

/// The server of a child agent (`serve --role worker|merge-reviewer|…`): up to 64 of them run at once, one per
/// pane, so what each one holds counts many times (docs/performance.md#a-childs-server).
public enum ChildServer {
    /// Whether this process is a child's stdio server, from the raw arguments and environment: decided before
    /// the command line is parsed, because the process-wide settings below must come before any thread starts.
    public static func isChildServer(_ arguments: [String], role environmentRole: String?) -> Bool {
        let args = Array(arguments.dropFirst())
        guard args.first == "serve", !args.contains("--http") else { return false }
        var role = environmentRole
        for (index, arg) in args.enumerated() {
            if arg == "--role", index + 1 < args.count { role = args[index + 1] }
            if arg.hasPrefix("--role=") { role = String(arg.dropFirst("--role=".count)) }
        }
        return role != nil && role != "root"
    }

    /// One malloc arena for the whole process. glibc gives every thread that allocates its own arena (up to
    /// 8 per core), each holding its freed memory apart; a child serves one agent, one call at a time, so the
    /// threads hardly ever allocate at the same moment and sharing the main arena costs nothing measurable.
    /// Must run before a second thread allocates: the arena limit is fixed on first use.
    public static func prepareProcess() {
        #if canImport(Glibc)
            // mallopt is declared in <malloc.h>, which the Glibc module leaves out; looked up instead of a C target.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mARENA_MAX: Int32 = -8  // M_ARENA_MAX in <malloc.h>
            _ = unsafeBitCast(symbol, to: Mallopt.self)(mARENA_MAX, 1)
        #endif
    }
}
