"""Storage faults are answered with what to do, never as `internal` bugs (issue 16, item 10).

- A full disk: `unavailable`, naming the full disk.
- A file that is not a database: `external_failed`, with a hint.
- A 0-byte `state.db`: refused (never silently re-initialised, which lost every session); `doctor` fails it.
- A `.codestrator` folder the user may not write: a clear `unavailable`, nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from cs_harness import err, ok
from proof_support import cs_call, db_path

pytestmark = pytest.mark.anyio


async def test_zero_byte_database_is_refused_not_reinitialised(ws):
    async with ws.client() as c:
        await ok(c, "workspace.init")
        await ok(c, "session.open", {"intent": "new_work", "user_request": "Kept", "agent_role": "sim"})
    path = db_path(ws)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.write_bytes(b"")  # the content is lost (truncated, a failed copy)
    rc, out = cs_call(ws, "session.list", {})
    assert rc != 0, out
    e = out.get("error", {}) if isinstance(out, dict) else {}
    text = json.dumps(out)
    assert "empty file (0 bytes)" in text, text
    assert e.get("code") in (None, "unavailable"), out
    assert path.stat().st_size == 0, "the empty database was re-initialised"
    r = subprocess.run([ws.binary, "doctor", "--repo", str(ws.repo), "--json"], capture_output=True, text=True,
                       timeout=60, env=ws.server_env(), cwd=str(ws.tmp))
    checks = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["database"]["level"] == "fail", checks["database"]
    assert "integrity ok" not in checks["database"]["found"] and "0 bytes" in checks["database"]["found"], checks
    assert r.returncode == 1
    assert path.stat().st_size == 0


async def test_not_a_database_is_external_failed_with_a_hint(ws):
    async with ws.client() as c:
        await ok(c, "workspace.init")
    path = db_path(ws)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database\n" * 400)
    rc, out = cs_call(ws, "session.list", {})
    text = json.dumps(out)
    assert rc != 0 and "not a database" in text, text
    assert "this is a bug" not in text and '"internal"' not in text, text
    assert '"external_failed"' in text or "external_failed" in text, text


@pytest.fixture
def tiny_disk(ws):
    """A 1 MiB tmpfs for the database (root only: tests run as root here)."""
    mnt = ws.tmp / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill ({r.stderr.strip()}); the full-disk case needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


async def test_full_disk_is_unavailable_with_a_hint(ws, tiny_disk):
    env = dict(ws.server_env(), CODESTRATOR_DB=str(tiny_disk / "state.db"))
    ws.server_env = lambda: env  # type: ignore[method-assign]
    async with ws.client() as c:
        await ok(c, "workspace.init")
        opened = await ok(c, "session.open", {"intent": "new_work", "user_request": "Full", "agent_role": "sim"})
        sid = opened["session_context"]["session"]["id"]
        # Fill the disk to the last byte.
        fd = os.open(tiny_disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 512) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        codes = set()
        for i in range(20):
            res = await c.call_tool("orch_task", {"method": "task.create", "params": {
                "level": "epic", "title": f"epic {i}", "session_id": sid, "description": "x" * 60000}})
            if res.is_error:
                e = res.structured_content["error"]
                codes.add(e["code"])
                assert e["code"] == "unavailable" and "disk is full" in e["message"], e
                break
        assert codes == {"unavailable"}, "the full disk never failed a write"
        (tiny_disk / "filler").unlink()
        await ok(c, "task.create", {"level": "epic", "title": "after", "session_id": sid})


def test_read_only_state_folder_for_a_non_root_user(ws):
    """`.codestrator` the user may not write: a clear error, nothing half-written."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and setpriv to run the server as another user")
    subprocess.run([ws.binary, "call", "workspace.init", "--repo", str(ws.repo), "--params", "{}"], check=True,
                   capture_output=True, timeout=60, env=ws.server_env(), cwd=str(ws.tmp))
    state = ws.repo / ".codestrator"
    before = sorted(str(p.relative_to(state)) for p in state.rglob("*"))
    sizes = {p: p.stat().st_size for p in state.rglob("*") if p.is_file()}
    # The repository readable (not writable) by everyone, so git works for the other user; the folders above it
    # traversable for the test's duration.
    opened: list[tuple[Path, int]] = []
    for parent in [*reversed(ws.tmp.parents), ws.tmp]:
        mode = parent.stat().st_mode & 0o7777
        if not mode & 0o001:
            opened.append((parent, mode))
            os.chmod(parent, mode | 0o001)
    for q in [ws.repo, *ws.repo.rglob("*")]:
        if not q.is_symlink():
            os.chmod(q, 0o755 if q.is_dir() else 0o644)
    home = ws.tmp / "nobody-home"
    home.mkdir()
    (home / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")
    os.chmod(home, 0o755)
    env = dict(ws.server_env(), HOME=str(home))
    try:
        p = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", ws.binary, "call", "session.list",
             "--repo", str(ws.repo), "--params", "{}"],
            capture_output=True, text=True, timeout=60, env=env, cwd="/")
    finally:
        for parent, mode in opened:
            os.chmod(parent, mode)
    text = p.stdout + p.stderr
    assert p.returncode != 0, text
    assert "unavailable" in text and "this is a bug" not in text, text
    assert "write" in text, text
    after = sorted(str(q.relative_to(state)) for q in state.rglob("*"))
    assert after == before, f"files appeared or vanished: {set(after) ^ set(before)}"
    assert {q: q.stat().st_size for q in state.rglob("*") if q.is_file()} == sizes
