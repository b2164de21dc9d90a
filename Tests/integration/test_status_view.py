"""`codestrator status` shows each session's plan with step progress, its children, the inbox and the merge
queue; `--watch` redraws only when what it shows changed."""

from __future__ import annotations

import json
import subprocess


def call(ws, method: str, params: dict) -> dict:
    p = subprocess.run(
        [ws.binary, "call", method, "--repo", str(ws.repo), "--params", json.dumps(params)],
        capture_output=True, text=True, timeout=60, env=ws.server_env())
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def test_status_shows_plan_progress_children_and_queue(ws):
    opened = call(ws, "session.open", {"intent": "new_work", "user_request": "Add cart endpoints", "agent_role": "sim"})
    sid = opened["session_context"]["session"]["id"]
    epic = call(ws, "task.create", {"level": "epic", "title": "Shop", "session_id": sid})["id"]
    feat = call(ws, "task.create", {"level": "feature", "title": "Cart", "parent_id": epic})["id"]
    group = call(ws, "task.create", {"level": "testgroup", "title": "API", "parent_id": feat})["id"]
    case = call(ws, "task.create", {"level": "case", "title": "add item", "parent_id": group,
                                    "steps": ["write test", "implement", "docs"]})["id"]
    call(ws, "case.begin", {"case_id": case, "session_id": sid})
    call(ws, "step.check", {"case_id": case, "step_title": "write test", "result": "red", "session_id": sid})
    r = subprocess.run([ws.binary, "status", "--repo", str(ws.repo)], capture_output=True, text=True, timeout=30,
                       env=ws.server_env())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"session {sid} · cart-endpoints · active", r.stdout
    assert "  plan: 0/1 cases done" in lines, r.stdout
    assert f"    [ ] case {case} add item 1/3 · in_progress" in lines, r.stdout
    assert "  children: none yet" in lines and "  inbox: none pending" in lines, r.stdout
    # --watch: one drawing while nothing changes.
    w = subprocess.run(["timeout", "5", ws.binary, "status", "--watch", "--repo", str(ws.repo)],
                       capture_output=True, text=True, timeout=30, env=ws.server_env())
    assert w.stdout.count("\x1b[2J") == 1, w.stdout
