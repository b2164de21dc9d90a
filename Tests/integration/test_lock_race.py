"""Path locks hold across processes: 8 processes race for overlapping paths named three ways; the lock
history proves no two overlapping active leases of different owners ever coexisted (docs/methods.md#lockacquire)."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import threading

from cs_harness import codestrator_bin

PROCESSES = 8
ROUNDS = 12


def call(binary: str, repo: str, method: str, params: dict) -> tuple[int, dict]:
    p = subprocess.run(
        [binary, "call", method, "--repo", repo, "--params", json.dumps(params)],
        capture_output=True, text=True, timeout=60,
    )
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else {}


def overlaps(ta: str, pa: str, tb: str, pb: str) -> bool:
    def under(x: str, p: str) -> bool:
        return p == "." or x == p or x.startswith(p + "/")

    if ta == "file" and tb == "file":
        return pa == pb
    if ta == "file":
        return under(pa, pb)
    if tb == "file":
        return under(pb, pa)
    return under(pa, pb) or under(pb, pa)


def test_eight_processes_never_hold_overlapping_leases(ws):
    binary = codestrator_bin()
    repo = str(ws.repo)
    rc, opened = call(binary, repo, "session.open", {"intent": "new_work", "user_request": "race", "agent_role": "sim"})
    assert rc == 0, opened
    slug = opened["worktree_slug"]
    names = [
        ("file", "src/a.txt"),
        ("file", f"{repo}/src/a.txt"),
        ("file", f".codestrator/worktrees/{slug}/src/a.txt"),
        ("prefix", "src"),
        ("prefix", f"{repo}/src/"),
        ("file", "src/b.txt"),
    ]
    results: list[tuple[str, int, str]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        rnd = random.Random(n)
        owner = f"proc:{n}"
        for _ in range(ROUNDS):
            scope_type, path = rnd.choice(names)
            rc, out = call(binary, repo, "lock.acquire", {"scope_type": scope_type, "scope_path": path, "owner_session": owner, "ttl_seconds": 60})
            if rc == 0:
                rc2, rel = call(binary, repo, "lock.release", {"lock_id": out["id"], "owner_session": owner})
                if rc2 != 0:
                    with lock:
                        errors.append(f"release failed: {rel}")
                with lock:
                    results.append((owner, out["id"], "held"))
            elif out.get("error", {}).get("code") != "conflict":
                with lock:
                    errors.append(f"unexpected: {out}")
            else:
                with lock:
                    results.append((owner, 0, "conflict"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(PROCESSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    held = [r for r in results if r[2] == "held"]
    conflicts = [r for r in results if r[2] == "conflict"]
    assert len(held) + len(conflicts) == PROCESSES * ROUNDS
    assert held, "no process ever got a lock"

    db = sqlite3.connect(ws.repo / ".codestrator" / "state.db")
    rows = db.execute(
        "SELECT id, scope_type, scope_path, owner_session, acquired_at, COALESCE(released_at, lease_until) FROM locks"
    ).fetchall()
    assert len(rows) == len(held)
    # Every way of naming src/a.txt is one lock path.
    assert {r[2] for r in rows} <= {"src/a.txt", "src", "src/b.txt"}, {r[2] for r in rows}
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            if a[3] == b[3] or not overlaps(a[1], a[2], b[1], b[2]):
                continue
            assert not (a[4] < b[5] and b[4] < a[5]), f"overlapping leases coexisted: {a} and {b}"
