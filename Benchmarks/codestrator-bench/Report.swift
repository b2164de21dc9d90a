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
    }

    /// Sequential throughput: one call in flight at a time.
    var callsPerSecond: Double { 1000 / mean }
}

struct Target {
    let label: String
    let value: Double
    let limit: Double
    let unit: String
    var pass: Bool { value <= limit }
}

struct Report {
    let binary: String
    let serverVersion: String
    let iterations: Int
    let warmup: Int
    let floor: Stats
    let ping: Stats
    let rounds: [Stats]  // ping, read, writes: everything compared with the floor and ping
    let coldStart: Stats
    let targets: [Target]
    let warnings: [String]

    private func fmt(_ value: Double, _ digits: Int = 3) -> String {
        String(format: "%.\(digits)f", value)
    }
    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    func table() -> String {
        var out = "codestrator-bench: \(binary) (\(serverVersion))\n"
        out += "\(iterations) sequential calls per measure after \(warmup) warm-ups; "
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
        out += "\nratios compare p50s. targets (release build):\n"
        for t in targets {
            out +=
                "  \(t.pass ? "PASS" : "FAIL")  \(t.label): \(fmt(t.value)) \(t.unit) <= \(fmt(t.limit)) \(t.unit)\n"
        }
        for w in warnings { out += "warning: \(w)\n" }
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
        let object: [String: Any] = [
            "binary": binary, "server_version": serverVersion, "iterations": iterations, "warmup": warmup,
            "floor": measure(floor, ratios: true), "measures": rounds.map { measure($0, ratios: true) },
            "cold_start": measure(coldStart, ratios: false),
            "targets": targets.map {
                [
                    "label": $0.label, "value": round($0.value), "limit": $0.limit, "unit": $0.unit,
                    "pass": $0.pass,
                ]
            },
            "all_pass": targets.allSatisfy(\.pass), "warnings": warnings,
        ]
        let data = try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }
}
