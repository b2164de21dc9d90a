"""A spawn chooses the largest pane of the children window and splits it; another process may close that very pane
in between (its child stopped). The spawn must choose again, not fail: test_proof_races.py met this as a rare
`external_failed ... can't find pane` and this test makes it happen every time, with a tmux wrapper on the server's
PATH that closes the targeted pane once, right before the split runs."""

from __future__ import annotations

import shutil
import subprocess

from proof_support import RawClient, db

WRAPPER = r"""#!/bin/bash
# Test wrapper (test_spawn_race.py): once, close the pane a split-window targets just before the split.
if [[ -e "MARK" ]]; then
  for ((i = 1; i <= $#; i++)); do
    if [[ "${!i}" == split-window ]]; then
      for ((j = i + 1; j < $#; j++)); do
        if [[ "${!j}" == -t ]]; then k=$((j + 1)); target="${!k}"; break; fi
      done
      if [[ -n "${target:-}" ]] && rm "MARK" 2>/dev/null; then
        "REAL" "${@:1:i-1}" kill-pane -t "$target"
        printf '%s\n' "$target" > "MARK.killed"
      fi
      break
    fi
  done
fi
exec "REAL" "$@"
"""


def spawn_params(sid: int, title: str) -> dict:
    return {"session_id": sid, "role": "worker", "title": title, "create_worktree": False, "skip_ready_check": True,
            "agent_override": {"sim_scenario": "echo"}}


def test_spawn_chooses_again_when_its_target_pane_closes(ws):
    bindir = ws.tmp / "racebin"
    bindir.mkdir()
    mark = ws.tmp / "split-race"
    real = shutil.which("tmux")
    assert real
    wrapper = bindir / "tmux"
    wrapper.write_text(WRAPPER.replace("MARK", str(mark)).replace("REAL", real), encoding="utf-8")
    wrapper.chmod(0o755)
    env = ws.server_env()
    env["PATH"] = f"{bindir}:{env['PATH']}"
    # The wrapper stages the race on a tmux process: one per command (docs/runtime-guide.md#tmux-control-mode).
    env["CODESTRATOR_TMUX_ADAPTER"] = "oneshot"

    c = RawClient(ws, env=env)
    try:
        o = c.ok("session.open", {"intent": "new_work", "user_request": "Split race", "agent_role": "sim"})
        sid = o["session_context"]["session"]["id"]
        first = c.ok("thread.child.spawn", spawn_params(sid, "first"))["thread"]["id"]
        mark.touch()
        second = c.ok("thread.child.spawn", spawn_params(sid, "second"))["thread"]["id"]
        assert not mark.exists(), "the wrapper never saw a split-window: the race was not staged"
        killed = (ws.tmp / "split-race.killed").read_text(encoding="utf-8").strip()
        with db(ws) as d:
            panes = dict(d.execute("SELECT id, tmux_pane_id FROM threads WHERE id IN (?, ?)", (first, second)))
        assert panes[second] and panes[second] != killed, panes
        live = subprocess.run([real, "-L", ws.tmux_socket, "list-panes", "-a", "-F", "#{pane_id}"],
                              capture_output=True, text=True, check=True).stdout.split()
        assert panes[second] in live and killed not in live, (panes, killed, live)
        c.ok("session.cleanup", {"session_id": sid})
    finally:
        c.close()
