"""Dashboard benchmark: first page usable, state change → visible in the stream (p50/p95), and server CPU with
10 idle open pages on a session of 32 children over 60 s, next to the same server's CPU with no page open
(the baseline) in the same run.

Run after `swift build`: .venv/bin/python Benchmarks/dashboard/bench_dashboard.py [--changes 40] [--idle 60]
(CODESTRATOR_BIN names another binary). It prints figures; targets (docs/dashboard.md) are read, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))

from cs_harness import new_workspace, ok, open_session, session_id_of, start_http_server, stop_http_server  # noqa: E402
from dashboard_support import SSEReader, dashboard_link, link_token, pane_thread, request, sign_in  # noqa: E402
from test_dashboard_http import cpu_seconds  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


async def run(changes: int, idle: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = new_workspace(Path(tmp))
        try:
            async with ws.client() as c:
                sid = session_id_of(await open_session(c, "Dashboard bench", agent_role="sim"))
                epic = await ok(c, "task.create", {"level": "epic", "title": "Bench epic", "session_id": sid})
                for i in range(32):
                    pane_thread(ws, sid, f"bench-pane-{i}", f"echo bench pane {i}; sleep 900")
                server = start_http_server(ws)
                try:
                    port = server.port
                    link = dashboard_link(server)
                    # First page usable: the link (cookie exchange and redirect), the page, its script and style,
                    # and the first snapshot on the stream.
                    firsts = []
                    for _ in range(5):
                        t0 = time.monotonic()
                        cookie = sign_in(port, link_token(link))
                        for path in ("/", "/dashboard/app.js", "/dashboard/app.css"):
                            assert request(port, "GET", path, {"Cookie": cookie}).status == 200
                        r = SSEReader(port, cookie)
                        r.next_named("snapshot")
                        firsts.append(time.monotonic() - t0)
                        r.close()
                    sse = SSEReader(port, cookie)
                    sse.next_named("snapshot")
                    delays = []
                    for i in range(changes):
                        t0 = time.monotonic()
                        await ok(c, "task.create", {"level": "feature", "title": f"F{i}", "parent_id": epic["id"]})
                        while True:
                            ev = sse.next_named("snapshot", timeout=10)
                            kids = ev["sessions"][0]["plan"][0]["children"]
                            if any(k["title"] == f"F{i}" for k in kids):
                                break
                        delays.append(time.monotonic() - t0)
                    sse.close()
                    time.sleep(6)  # the closed stream is noticed at its next keep-alive
                    before, t0 = cpu_seconds(server.proc.pid), time.monotonic()
                    time.sleep(idle)
                    baseline = (cpu_seconds(server.proc.pid) - before) / (time.monotonic() - t0)
                    readers = [SSEReader(port, cookie) for _ in range(10)]
                    for r in readers:
                        r.next_named("snapshot")
                    time.sleep(11)  # panes still for 10 s: read every 3 s
                    before, t0 = cpu_seconds(server.proc.pid), time.monotonic()
                    time.sleep(idle)
                    share = (cpu_seconds(server.proc.pid) - before) / (time.monotonic() - t0)
                    for r in readers:
                        r.close()
                finally:
                    stop_http_server(server)
            print(f"first page usable (link → page, script, style, first snapshot): p50 "
                  f"{statistics.median(firsts) * 1000:.0f} ms, max {max(firsts) * 1000:.0f} ms  target ≤ 300 ms")
            print(f"state change → in the stream ({changes} changes from another process): p50 "
                  f"{statistics.median(delays) * 1000:.0f} ms, p95 {pct(delays, 0.95) * 1000:.0f} ms  target p95 ≤ 1 s")
            print(f"server CPU over {idle:.0f} s, 32 children: no page open {baseline * 100:.2f} % (baseline), "
                  f"10 idle pages {share * 100:.2f} % of a core  target ≤ 1 %")
        finally:
            ws.kill_tmux()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=40)
    ap.add_argument("--idle", type=float, default=60)
    a = ap.parse_args()
    asyncio.run(run(a.changes, a.idle))


if __name__ == "__main__":
    main()
