"""Real-client benchmark: spawn → prompt delivered, and turn end → thread status updated by the client's hook,
for the pinned Codex CLI and Claude Code, next to each client's own start-up time measured in the same run.

Run: .venv/bin/python Benchmarks/real-clients/bench_real_clients.py [--runs N]
(after `swift build`; CODESTRATOR_BIN names another binary). Figures are printed, never asserted: targets are
checked by reading them (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "realclients"))

from rc_world import new_world  # noqa: E402  (puts Tests/integration on the path)
from cs_harness import ok  # noqa: E402
from fake_model import say  # noqa: E402

IDLE = {"codex": "default · ", "claude_code": "? for shortcuts|⏵⏵"}


def p50(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def startup_to_idle(w, provider: str) -> float:
    """The client alone in a tmux pane, from launch to its idle screen (its own start-up time). The folder is
    trusted beforehand by one unmeasured launch, as a returning user's would be."""
    argv = ["codex", "--no-alt-screen", "--no-daemon"] if provider == "codex" else ["claude"]
    w.tmux("kill-session", "-t", "=bench")
    t0 = time.time()
    pane = w.tmux("new-session", "-d", "-s", "bench", "-P", "-F", "#{pane_id}", "-x", "160", "-y", "40", "-c",
                  str(w.repo), *argv).stdout.strip()
    needles = IDLE[provider].split("|")
    while time.time() - t0 < 30:
        screen = w.tmux("capture-pane", "-p", "-t", pane).stdout
        if "Trust this folder" in screen:
            w.tmux("send-keys", "-t", pane, "Enter")
            time.sleep(0.2)
        elif "Hooks need review" in screen and "esc skip" in screen:
            w.tmux("send-keys", "-t", pane, "Escape")
            time.sleep(0.2)
        elif "Is this a project you created" in screen:
            # One key per screen, as Codestrator answers it: Enter right after Down can choose "No, exit".
            w.tmux("send-keys", "-t", pane, "Enter" if "❯ Yes, I trust" in screen else "Down")
            time.sleep(0.2)
        elif any(n in screen for n in needles):
            elapsed = time.time() - t0
            w.tmux("kill-session", "-t", "=bench")
            return elapsed
        time.sleep(0.01)
    raise SystemExit(f"{provider} never became idle:\n{screen}")


def iso(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


async def spawn_round(w, c, sid: int, provider: str, n: int) -> tuple[float, float | None]:
    marker = f"BENCH TURN {provider} {n}"
    w.model.on(marker, say("bench answer"))
    t0 = time.time()
    spawned = await ok(c, "thread.child.spawn", {"session_id": sid, "provider": provider, "initial_prompt": marker,
                                                 "create_worktree": False, "ready_timeout_seconds": 30})
    tid = spawned["thread"]["id"]
    w.model.wait_for(lambda: bool(w.model.prompts(marker)), 30, marker)
    delivered = w.model.prompts(marker)[0].at - t0
    w.model.wait_for(lambda: w.model.prompts(marker)[0].ended > 0, 30, "turn end")
    ended = w.model.prompts(marker)[0].ended
    hook_at = None
    deadline = time.time() + 10
    while time.time() < deadline and hook_at is None:
        db = sqlite3.connect(w.repo / ".codestrator" / "state.db")
        row = db.execute("SELECT created_at FROM thread_events WHERE thread_id = ? AND event IN "
                         "('turn_complete','stop') ORDER BY id LIMIT 1", (tid,)).fetchone()
        db.close()
        if row:
            hook_at = iso(row[0])
        else:
            time.sleep(0.05)
    await ok(c, "thread.child.stop", {"thread_id": tid})
    return delivered, (hook_at - ended) if hook_at else None


async def bench(provider: str, runs: int) -> None:
    w = new_world()
    try:
        w.install("codex" if provider == "codex" else "claude")
        startup = [startup_to_idle(w, provider) for _ in range(runs + 1)][1:]
        delivered, hook = [], []
        async with w.client() as c:
            await ok(c, "workspace.init")
            opened = await ok(c, "session.open", {"intent": "new_work", "user_request": "Bench real clients",
                                                  "agent_role": provider, "max_concurrent_children": 4})
            sid = opened["session_context"]["session"]["id"]
            for n in range(runs):
                d, h = await spawn_round(w, c, sid, provider, n)
                delivered.append(d)
                if h is not None:
                    hook.append(h)
        print(f"{provider}: client start-up to idle (alone, trusted folder) p50 {p50(startup) * 1000:.0f} ms "
              f"[{', '.join(f'{x * 1000:.0f}' for x in startup)}]")
        print(f"{provider}: spawn → prompt delivered (model receives it) p50 {p50(delivered) * 1000:.0f} ms "
              f"[{', '.join(f'{x * 1000:.0f}' for x in delivered)}]  target ≤ 1500 ms")
        print(f"{provider}: turn end → status updated by hook p50 {p50(hook) * 1000:.0f} ms "
              f"[{', '.join(f'{x * 1000:.0f}' for x in hook)}] ({len(hook)}/{runs} turns reported)  target ≤ 300 ms")
    finally:
        w.cleanup()
        shutil.rmtree(w.tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--client", choices=["codex", "claude_code", "both"], default="both")
    a = ap.parse_args()
    for p in (["codex", "claude_code"] if a.client == "both" else [a.client]):
        asyncio.run(bench(p, a.runs))


if __name__ == "__main__":
    main()
