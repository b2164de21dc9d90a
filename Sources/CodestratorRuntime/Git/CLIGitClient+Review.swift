import CodestratorCore
import Foundation

extension CLIGitClient {
    public func mergeBase(repo: String, _ a: String, _ b: String) async throws -> String? {
        let r = try await run(["-C", repo, "merge-base", a, b])
        guard r.ok else { return nil }
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func log(repo: String, range: String, max: Int) async throws -> [(String, String, String, String)] {
        let args = ["-C", repo, "log", "--format=%H%x1f%s%x1f%an%x1f%aI%x1e", "--max-count=\(max)", range, "--"]
        let r = try await run(args, limit: 4 * 1024 * 1024)
        guard r.ok else { throw failure(args, r) }
        return r.out.split(separator: "\u{1e}").compactMap { rec in
            let f = rec.trimmingCharacters(in: .whitespacesAndNewlines).split(
                separator: "\u{1f}", omittingEmptySubsequences: false
            ).map(String.init)
            return f.count >= 4 ? (f[0], f[1], f[2], f[3]) : nil
        }
    }

    public func nameStatus(repo: String, from a: String, to b: String) async throws -> [(String, String, String?)] {
        let args = ["-C", repo, "-c", "core.quotepath=off", "diff", "--name-status", "-z", "-M", a, b, "--"]
        let r = try await run(args, limit: 4 * 1024 * 1024)
        guard r.ok else { throw failure(args, r) }
        let f = r.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        var out: [(String, String, String?)] = []
        var i = 0
        while i < f.count {
            let code = String(f[i].prefix(1))
            if (code == "R" || code == "C"), i + 2 < f.count {
                out.append((code, f[i + 2], f[i + 1]))
                i += 3
            } else if i + 1 < f.count {
                out.append((code, f[i + 1], nil))
                i += 2
            } else {
                break
            }
        }
        return out
    }

    public func numstat(repo: String, from a: String, to b: String) async throws -> [String: (Int?, Int?)] {
        let args = ["-C", repo, "-c", "core.quotepath=off", "diff", "--numstat", "-z", "-M", a, b, "--"]
        let r = try await run(args, limit: 4 * 1024 * 1024)
        guard r.ok else { throw failure(args, r) }
        var out: [String: (Int?, Int?)] = [:]
        let f = r.stdout.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        var i = 0
        while i < f.count {
            let parts = f[i].split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3 {
                if parts[2].isEmpty, i + 2 < f.count {
                    out[f[i + 2]] = (Int(parts[0]), Int(parts[1]))  // rename: old, new follow
                    i += 3
                    continue
                }
                out[parts[2]] = (Int(parts[0]), Int(parts[1]))
            }
            i += 1
        }
        return out
    }

    public func diffStat(repo: String, from a: String, to b: String) async throws -> String {
        let args = ["-C", repo, "diff", "--stat=200", "--no-color", a, b, "--"]
        let r = try await run(args, limit: 4 * 1024 * 1024)
        guard r.ok else { throw failure(args, r) }
        return r.out
    }

    public func diff(repo: String, from a: String, to b: String, maxBytes: Int) async throws -> (String, Int, Bool) {
        let args = ["-C", repo, "diff", "--no-color", "--no-ext-diff", "-M", a, b, "--"]
        let r = try await run(args, limit: 64 * 1024 * 1024)
        guard r.ok else { throw failure(args, r) }
        let full = r.stdout.count
        guard full > maxBytes else { return (r.out, full, false) }
        var cut = Array(r.stdout.prefix(maxBytes))
        if let nl = cut.lastIndex(of: 0x0A) { cut = Array(cut[...nl]) }
        return (String(decoding: cut, as: UTF8.self), full, true)
    }
}
