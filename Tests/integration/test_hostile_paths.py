"""Hostile paths and names, a bare locale (issue 16, items 1, 3, 4, 8, 11).

- tmux format-expands `-c`, `-n`, `-s` and `-T`: a repository at `… C#Sharp` or `… #(touch pwned)` must start
  its panes in the right folder and run nothing; worktree directories are named by slugs, never by branch text.
- A child whose worktree directory is gone or is not its worktree fails before it can record work.
- With `LANG=C` (tmux then prints `_` for the tab of `-F` formats unless run with `-u`) a sim child spawns, works and
  keeps its pane; a server started so never nulls the pane ids of live children.
- `worktree.merge_to_parent` of a child whose directory was deleted and recreated fails instead of `up_to_date`.
- `worktree.create` takes short branch names only (`refs/heads/main` would make `main` ambiguous).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cs_harness import Workspace, branches, err, make_repo, ok, run_git
from proof_support import db
from threads_support import pwned_files, screen, sim_session, spawn, spawn_case_worker, tmux, wait_until

pytestmark = pytest.mark.anyio


def hostile_workspace(ws: Workspace, name: str) -> Workspace:
    """A workspace like `ws` (same private tmux socket, cleaned up with it) whose repository sits at `name`."""
    return Workspace(tmp=ws.tmp, repo=make_repo(ws.tmp / name), tmux_socket=ws.tmux_socket, binary=ws.binary)


def pane_path(ws: Workspace, pane: str) -> str:
    return tmux(ws, "display-message", "-p", "-t", pane, "#{pane_current_path}").stdout.strip()


@pytest.mark.parametrize("name", ["r07 C#Sharp", "r07 job #(touch pwned) #{session_name} ##"])
async def test_repository_path_with_tmux_formats(ws, name):
    hw = hostile_workspace(ws, name)
    async with hw.client() as c:
        sid = await sim_session(c, "Hostile repository path")
        ids, sp = await spawn_case_worker(c, sid, "worker-basic", ["only step"], "Hash")
        t = sp["thread"]
        wt = sp["worktree"]
        assert wt["path"].startswith(str(hw.repo) + "/.codestrator/worktrees/"), wt["path"]
        w = await ok(c, "thread.child.wait_status",
                     {"thread_id": t["id"], "target_statuses": ["completed"], "timeout_seconds": 30})
        assert w["achieved_status"] == "completed", f"{w}\n{screen(hw, t['tmux_pane_id'])}"
        case = await ok(c, "task.get", {"task_id": ids["case"]})
        assert case["status"] == "done", case
        # The work landed in the child's worktree and its branch, not in the folder above the repository.
        assert (Path(wt["path"]) / "sim" / f"case_{ids['case']}_step_1.txt").is_file()
        log = run_git(hw.repo, "log", "--format=%s", wt["branch"]).stdout
        assert f"sim: case {ids['case']} step 1" in log, log
        assert not (ws.tmp / "sim").exists(), "the sim wrote its files next to the repository"
        # The status pane started in the session root worktree.
        with db(hw) as d:
            viewer = d.execute("SELECT tmux_session_name FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
        status_pane = tmux(hw, "list-panes", "-t", f"={viewer}:=children", "-F", "#{pane_id}").stdout.split()[0]
        assert pane_path(hw, status_pane).startswith(str(hw.repo)), pane_path(hw, status_pane)
    assert pwned_files([ws.tmp, Path.cwd()]) == [], "a #(...) in the repository path ran a command"


async def test_branch_with_tmux_formats_gets_a_slug_directory(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Hostile branch")
        branch = "codestrator/#(touch${IFS}pwned)#S"
        created = await ok(c, "worktree.create", {"branch": branch, "session_id": sid})
        path = created["path"]
        rel = path[len(str(ws.repo) + "/.codestrator/worktrees/"):]
        assert re.fullmatch(r"[a-z0-9-]+", rel), f"worktree directory {rel!r} is not a slug"
        assert created["branch"] == branch
        sp = await spawn(c, sid, "echo", worktree_id=created["id"], title="In the hostile branch")
        pane = sp["thread"]["tmux_pane_id"]
        assert Path(pane_path(ws, pane)).resolve() == Path(path).resolve(), pane_path(ws, pane)
        # A second branch of the same slug gets the next free directory.
        again = await ok(c, "worktree.create", {"branch": "other/#(touch${IFS}pwned)#S", "session_id": sid})
        assert again["path"] != path and again["path"].startswith(path), (path, again["path"])
    assert pwned_files([ws.tmp, Path.cwd()]) == [], "a #(...) in a branch name ran a command"


@pytest.mark.parametrize("how", ["deleted", "recreated"])
async def test_child_never_starts_outside_its_worktree(ws, how):
    async with ws.client() as c:
        sid = await sim_session(c, "Vanishing worktree")
        made = await ok(c, "worktree.spawn", {"session_id": sid, "slug": "vanish"})
        shutil.rmtree(made["path"])
        if how == "recreated":
            os.mkdir(made["path"])
        e = await err(c, "thread.child.spawn",
                      {"session_id": sid, "role": "worker", "worktree_id": made["id"],
                       "agent_override": {"sim_scenario": "worker-basic"}})
        assert e["code"] == "invalid_state", e
        assert made["path"] in e["message"], e["message"]
        with db(ws) as d:
            rows = d.execute("SELECT id, status, tmux_pane_id FROM threads WHERE role <> 'session-root'").fetchall()
        assert rows == [], f"a thread was recorded for a child that could not start in its worktree: {rows}"


async def test_spawn_after_the_session_root_vanished_names_the_directory(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Root gone")
        with db(ws) as d:
            root = d.execute(
                "SELECT w.path FROM worktrees w JOIN sessions s ON s.session_root_worktree_id = w.id WHERE s.id = ?",
                (sid,)).fetchone()[0]
        run_git(ws.repo, "worktree", "remove", "--force", root)
        e = await err(c, "worktree.spawn", {"session_id": sid, "slug": "after"})
        assert "does not name a commit" not in e["message"], e["message"]
        assert root in e["message"] and e["field"] == "parent_worktree_id", e


@pytest.mark.parametrize("how", ["recreated", "deleted"])
async def test_merge_to_parent_of_a_recreated_directory_fails(ws, how):
    async with ws.client() as c:
        sid = await sim_session(c, "Merge of a vanished child")
        child = await ok(c, "worktree.spawn", {"session_id": sid, "slug": "gone"})
        Path(child["path"], "work.txt").write_text("work\n")
        run_git(Path(child["path"]), "add", "work.txt")
        run_git(Path(child["path"]), "commit", "-q", "-m", "child work")
        # The worktree directory disappears (its git admin files stay), then maybe an empty one appears.
        shutil.rmtree(child["path"])
        if how == "recreated":
            os.mkdir(child["path"])
        e = await err(c, "worktree.merge_to_parent", {"worktree_id": child["id"]})
        assert e["code"] == "invalid_state" and child["path"] in e["message"], e
        listed = await ok(c, "worktree.list", {"session_id": sid})
        row = next(w for w in listed["worktrees"] if w["id"] == child["id"])
        assert row["merge_state"] == "active", f"recorded as merged although nothing was merged: {row}"


@pytest.mark.parametrize("branch", ["refs/heads/main", "refs/heads/x", "HEAD", "@{-1}", "-x", "a..b", "main.lock"])
async def test_worktree_create_takes_short_branch_names_only(ws, branch):
    async with ws.client() as c:
        await ok(c, "workspace.init")
        before = branches(ws.repo)
        e = await err(c, "worktree.create", {"branch": branch})
        assert e["code"] == "invalid_params" and e["field"] == "branch", e
        if branch.startswith("refs/"):
            assert "refs/" in e["expected"] and "ambiguous" in e["expected"], e
        assert branches(ws.repo) == before
        refs = run_git(ws.repo, "for-each-ref", "--format=%(refname)").stdout
        assert "refs/heads/refs/" not in refs, refs


def bare_locale_env(ws: Workspace) -> dict[str, str]:
    env = {k: v for k, v in ws.server_env().items() if k not in ("LANG", "LC_ALL", "LC_CTYPE")}
    env["LANG"] = "C"
    return env


async def test_bare_locale_sim_child_spawns_works_and_keeps_its_pane(ws):
    env = bare_locale_env(ws)
    ws.server_env = lambda: env  # type: ignore[method-assign]
    async with ws.client() as c:
        sid = await sim_session(c, "Bare locale")
        ids, sp = await spawn_case_worker(c, sid, "worker-basic", ["first", "second"], "Locale")
        t = sp["thread"]
        assert t["tmux_pane_id"], t
        w = await ok(c, "thread.child.wait_status",
                     {"thread_id": t["id"], "target_statuses": ["completed"], "timeout_seconds": 30})
        assert w["achieved_status"] == "completed", f"{w}\n{screen(ws, t['tmux_pane_id'])}"
        listed = await ok(c, "thread.child.list", {"session_id": sid})
        mine = next(x for x in listed["threads"] if x["id"] == t["id"])
        assert mine["tmux_pane_id"] == t["tmux_pane_id"], mine
        case = await ok(c, "task.get", {"task_id": ids["case"]})
        assert case["status"] == "done", case


async def test_bare_locale_server_never_nulls_live_panes(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Live child")
        sp = await spawn(c, sid, "echo", create_worktree=False)
        tid, pane = sp["thread"]["id"], sp["thread"]["tmux_pane_id"]
        env = bare_locale_env(ws)
        normal = ws.server_env
        ws.server_env = lambda: env  # type: ignore[method-assign]
        try:
            async with ws.client() as bare:
                # A root start reconciles; listing and observing run under LANG=C.
                listed = await ok(bare, "thread.child.list", {"session_id": sid})
        finally:
            ws.server_env = normal  # type: ignore[method-assign]
        mine = next(x for x in listed["threads"] if x["id"] == tid)
        assert mine["tmux_pane_id"] == pane and mine["status"] not in ("failed", "stopped"), mine
        with db(ws) as d:
            row = d.execute("SELECT tmux_pane_id, status FROM threads WHERE id = ?", (tid,)).fetchone()
        assert row[0] == pane, f"the bare-locale server nulled the live pane: {tuple(row)}"


def test_doctor_reports_the_locale(ws):
    env = bare_locale_env(ws)
    r = subprocess.run([ws.binary, "doctor", "--repo", str(ws.repo), "--json"], capture_output=True, text=True,
                       timeout=60, env=env, cwd=str(ws.tmp))
    import json

    checks = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
    assert "locale" in checks, checks.keys()
    assert "LANG=C" in checks["locale"]["found"] and "-u" in checks["locale"]["found"], checks["locale"]


def test_demo_reports_the_death_of_its_server(ws):
    """`codestrator demo` whose server is SIGKILLed mid-run: no silent SIGPIPE death (exit 141, lost stages), but
    failed stages naming the server's death and exit status 1."""
    import signal
    import time

    base = ws.tmp / "demo"
    env = {k: v for k, v in ws.server_env().items()}
    p = subprocess.Popen([ws.binary, "demo", "--dir", str(base), "--tmux-socket", ws.tmux_socket], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env, cwd=str(ws.tmp))
    lines: list[str] = []
    try:
        servers: list[int] = []
        deadline = time.monotonic() + 60
        while not servers and time.monotonic() < deadline and p.poll() is None:
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text(errors="replace")
                    cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == p.pid and b"serve" in cmd:
                    servers.append(int(entry))
            time.sleep(0.05)
        assert servers, "no serve child of the demo found"
        time.sleep(0.5)  # some stages pass first
        for pid in servers:
            os.kill(pid, signal.SIGKILL)
        rest, _ = p.communicate(timeout=180)
        lines.append(rest)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = "".join(lines)
    assert p.returncode == 1, f"demo exited with {p.returncode} (-13/141: killed by SIGPIPE):\n{out}"
    assert "server is gone" in out, out
    assert re.search(r"\d+/\d+ stages passed", out), out
