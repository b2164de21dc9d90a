#!/usr/bin/env python3
"""Runs `codestrator-bench --json` against two server binaries in turn (old, new, old, new, …) and prints every
figure's median over the rounds side by side, with the new/old ratio. A figure more than `--tolerance` worse is
marked; the exit status is 0 either way (a report, not a test), 2 on bad usage, 1 when a bench run failed.

  python3 Benchmarks/compare_binaries.py --old /tmp/codestrator-old --new .build/release/codestrator \\
      [--bench .build/release/codestrator-bench] [--rounds 3] [--tolerance 0.10] [-- extra bench flags]

Interleaving the two binaries, round after round, is what makes a ratio on a busy machine mean something: both
see the same load. docs/performance.md says how the previous commit's binary is built for this.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path


def figures(report: dict) -> dict[str, tuple[float, bool]]:
    """name → (value, higher_is_better) for every figure worth comparing."""
    out: dict[str, tuple[float, bool]] = {}
    out["ping (floor) p50 ms"] = (report["floor"]["p50_ms"], False) if "floor" in report else (0.0, False)
    for m in report.get("measures", []):
        out[f"{m['name']} p50 ms"] = (m["p50_ms"], False)
        if "ratio_ping" in m:
            out[f"{m['name']} / ping"] = (m["ratio_ping"], False)
    out["cold start p50 ms"] = (report["cold_start"]["p50_ms"], False)
    writes = report.get("concurrent_writes")
    if writes:
        out["writes/s, 1 process"] = (writes["alone"]["writes_per_s"], True)
        out[f"writes/s, {writes['together']['processes']} processes"] = (writes["together"]["writes_per_s"], True)
        out[f"write p50 ms, {writes['together']['processes']} processes"] = (writes["together"]["p50_ms"], False)
    for c in report.get("comparisons", []):
        out[f"{c['measured']['name']} p50 ms"] = (c["measured"]["p50_ms"], False)
    return out


def run(bench: str, binary: str, extra: list[str]) -> dict:
    r = subprocess.run([bench, "--json", "--binary", binary, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"compare_binaries: {bench} --binary {binary} failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="the previous commit's codestrator binary")
    ap.add_argument("--new", required=True, help="this commit's codestrator binary")
    ap.add_argument("--bench", default=".build/release/codestrator-bench", help="codestrator-bench to run")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each binary, interleaved (default 3)")
    ap.add_argument("--tolerance", type=float, default=0.10, help="worse by more than this is marked (0.10)")
    ap.add_argument("extra", nargs="*", help="flags passed to codestrator-bench (after --)")
    a = ap.parse_args()
    for p in (a.old, a.new, a.bench):
        if not Path(p).is_file():
            print(f"compare_binaries: {p} does not exist", file=sys.stderr)
            return 2
    runs: dict[str, list[dict[str, tuple[float, bool]]]] = {"old": [], "new": []}
    for i in range(a.rounds):
        for which, binary in (("old", a.old), ("new", a.new)):
            print(f"round {i + 1}/{a.rounds}: {which}", file=sys.stderr, flush=True)
            runs[which].append(figures(run(a.bench, binary, a.extra)))
    names = [n for n in runs["new"][0] if all(n in r for r in runs["old"] + runs["new"])]
    width = max(len(n) for n in names)
    print(f"{'figure'.ljust(width)}  {'old':>10}  {'new':>10}  new/old")
    worse = 0
    for n in names:
        old = statistics.median(r[n][0] for r in runs["old"])
        new = statistics.median(r[n][0] for r in runs["new"])
        higher_better = runs["new"][0][n][1]
        ratio = new / old if old else float("nan")
        bad = (ratio < 1 - a.tolerance) if higher_better else (ratio > 1 + a.tolerance)
        worse += bad
        mark = "  WORSE" if bad else ""
        print(f"{n.ljust(width)}  {old:>10.3f}  {new:>10.3f}  {ratio:6.2f}{mark}")
    print(f"\n{worse} figure(s) worse by more than {a.tolerance:.0%} ({a.rounds} interleaved rounds, medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
