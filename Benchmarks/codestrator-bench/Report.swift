// Statistics and the two output formats (human table, one JSON object).

import Foundation

/// Summary of one measure, in milliseconds. Percentiles are nearest-rank (an observed sample, no
/// interpolation).
struct Stats {
    let name: String
    let samples: Int
    let p50: Double
    let p99: Double
    let mean: Double
    let min: Double
    let max: Double

    init(name: String, nanos: [UInt64]) {
        let sorted = nanos.sorted().map { Double($0) / 1e6 }
        func rank(_ p: Double) -> Double {
            sorted[Swift.max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
        }
        self.name = name
        samples = sorted.count
        p50 = rank(0.50)
        p99 = rank(0.99)
        mean = sorted.reduce(0, +) / Double(sorted.count)
        min = sorted[0]
        max = sorted[sorted.count - 1]
    }

    /// Sequential throughput: one call in flight at a time.
    var callsPerSecond: Double { 1000 / mean }
}

struct Target {
    let label: String
    let value: Double
    let limit: Double
    let unit: String
    var digits = 3
    var pass: Bool { value <= limit }
}

struct Report {
    let binary: String
    let serverVersion: String
    let iterations: Int
    let warmup: Int
    var sequential = false
    let floor: Stats
    let ping: Stats
    let rounds: [Stats]  // ping, read, writes: everything compared with the floor and ping
    let coldStart: Stats
    var targets: [Target]
    let warnings: [String]
    /// Measures next to a baseline of the same run (issue #9), and the concurrent-write series.
    var comparisons: [Comparison] = []
    var writes: WriteFigures?
    var notes: [String] = []

    private func fmt(_ value: Double, _ digits: Int = 3) -> String {
        String(format: "%.\(digits)f", value)
    }
    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    func table() -> String {
        var out = "codestrator-bench: \(binary) (\(serverVersion))\n"
        out += "\(iterations) calls per measure after \(warmup) warm-ups, one at a time; the stdio series (cat "
        out +=
            sequential
            ? "floor, ping, read, writes) one after another; " : "floor, ping, read, writes) take turns call by call; "
        out += "cold start over \(coldStart.samples) spawns\n\n"
        let head = ["p50 ms", "p99 ms", "mean ms", "min ms", "calls/s", "x cat", "x ping"]
        out += "measure".padding(toLength: 36, withPad: " ", startingAt: 0)
        out += head.map { pad($0, 9) }.joined() + "\n"
        for s in [floor] + rounds + [coldStart] {
            let isRound = s.name != coldStart.name
            let cells = [
                fmt(s.p50), fmt(s.p99), fmt(s.mean), fmt(s.min),
                isRound ? fmt(s.callsPerSecond, 0) : "-",
                isRound ? fmt(s.p50 / floor.p50, 1) : "-",
                isRound ? fmt(s.p50 / ping.p50, 2) : "-",
            ]
            out +=
                s.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                + cells.map { pad($0, 9) }.joined() + "\n"
        }
        out += "\nratios compare p50s.\n"
        if !comparisons.isEmpty { out += "\n" + comparisonTable() }
        if let writes { out += "\n" + writeTable(writes) }
        for note in notes { out += note + "\n" }
        out += "\ntargets (release build):\n"
        for t in targets {
            let value = fmt(t.value, t.digits)
            let limit = fmt(t.limit, t.digits)
            out += "  \(t.pass ? "PASS" : "FAIL")  \(t.label): \(value) \(t.unit) <= \(limit) \(t.unit)\n"
        }
        for w in warnings { out += "warning: \(w)\n" }
        return out
    }

    /// Each measure next to its baseline: p50 and p99 of both, and their ratios.
    func comparisonTable() -> String {
        var out = "measure".padding(toLength: 36, withPad: " ", startingAt: 0)
        out += ["p50 ms", "p99 ms"].map { pad($0, 9) }.joined() + "  "
        out += "baseline".padding(toLength: 32, withPad: " ", startingAt: 0)
        out += ["p50 ms", "p99 ms", "x p50", "x p99"].map { pad($0, 9) }.joined() + "\n"
        for c in comparisons {
            out += c.measured.name.padding(toLength: 36, withPad: " ", startingAt: 0)
            out += [fmt(c.measured.p50), fmt(c.measured.p99)].map { pad($0, 9) }.joined() + "  "
            out += c.baseline.name.padding(toLength: 32, withPad: " ", startingAt: 0)
            let cells = [
                fmt(c.baseline.p50), fmt(c.baseline.p99), fmt(c.measured.p50 / c.baseline.p50, 2),
                fmt(c.measured.p99 / c.baseline.p99, 2),
            ]
            out += cells.map { pad($0, 9) }.joined() + "\n"
        }
        return out
    }

    /// The concurrent-write series: one process alone, then all of them at once.
    func writeTable(_ w: WriteFigures) -> String {
        var out = "writes, one call in flight per process (\(w.mix)):\n"
        let head = ["processes", "writes", "wall s", "writes/s", "p50 ms", "p99 ms", "max ms", "errors"]
        out += head.map { pad($0, 10) }.joined() + "\n"
        for r in [w.alone, w.together] {
            let cells = [
                "\(r.processes)", "\(r.completed)", fmt(r.wallSeconds, 2), fmt(r.writesPerSecond, 0), fmt(r.stats.p50),
                fmt(r.stats.p99), fmt(r.stats.max), "\(r.errorCount)",
            ]
            out += cells.map { pad($0, 10) }.joined() + "\n"
        }
        out += "\(w.together.processes) vs 1: writes/s x\(fmt(w.together.writesPerSecond / w.alone.writesPerSecond, 2))"
        out += ", wall x\(fmt(w.together.wallSeconds / w.alone.wallSeconds, 2))"
        out += ", p50 x\(fmt(w.together.stats.p50 / w.alone.stats.p50, 2))"
        out += ", p99 x\(fmt(w.together.stats.p99 / w.alone.stats.p99, 2))\n"
        for r in [w.alone, w.together] {
            for (code, seen) in r.errors.sorted(by: { $0.key < $1.key }) {
                out += "errors (\(r.processes) processes): \(code) x\(seen.count), first: \(seen.first.prefix(300))\n"
            }
        }
        return out
    }

    /// The same figures as one JSON object (keys sorted; milliseconds rounded to 0.1 µs).
    func json() -> String {
        func round(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
        func measure(_ s: Stats, ratios: Bool) -> [String: Any] {
            var fields: [String: Any] = [
                "name": s.name, "samples": s.samples, "p50_ms": round(s.p50), "p99_ms": round(s.p99),
                "mean_ms": round(s.mean), "min_ms": round(s.min),
            ]
            if ratios {
                fields["calls_per_s"] = s.callsPerSecond.rounded()
                fields["ratio_cat"] = round(s.p50 / floor.p50)
                fields["ratio_ping"] = round(s.p50 / ping.p50)
            }
            return fields
        }
        func run(_ r: WriteRun) -> [String: Any] {
            [
                "processes": r.processes, "writes_each": r.writesEach, "completed": r.completed,
                "wall_s": round(r.wallSeconds),
                "writes_per_s": r.writesPerSecond.rounded(), "p50_ms": round(r.stats.p50),
                "p99_ms": round(r.stats.p99), "mean_ms": round(r.stats.mean), "max_ms": round(r.stats.max),
                "errors": r.errorCount,
                "errors_by_code": Dictionary(uniqueKeysWithValues: r.errors.map { ($0.key, $0.value.count) }),
            ]
        }
        var object: [String: Any] = [
            "binary": binary, "server_version": serverVersion, "iterations": iterations, "warmup": warmup,
            "series": sequential ? "sequential" : "interleaved",
            "floor": measure(floor, ratios: true), "measures": rounds.map { measure($0, ratios: true) },
            "cold_start": measure(coldStart, ratios: false),
            "targets": targets.map {
                [
                    "label": $0.label, "value": round($0.value), "limit": $0.limit, "unit": $0.unit,
                    "pass": $0.pass,
                ]
            },
            "all_pass": targets.allSatisfy(\.pass), "warnings": warnings, "notes": notes,
            "comparisons": comparisons.map {
                [
                    "measured": measure($0.measured, ratios: false), "baseline": measure($0.baseline, ratios: false),
                    "ratio_p50": round($0.measured.p50 / $0.baseline.p50),
                    "ratio_p99": round($0.measured.p99 / $0.baseline.p99),
                ]
            },
        ]
        if let writes {
            object["concurrent_writes"] = [
                "mix": writes.mix, "alone": run(writes.alone), "together": run(writes.together),
            ]
        }
        let data = try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }
}
