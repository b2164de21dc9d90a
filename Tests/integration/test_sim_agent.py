"""The sim agent (docs/sim-agent.md) in a real tmux pane on a private socket, and `codestrator hook sim` (§5.1a).

Text reaches the pane the way Codestrator sends it (docs/runtime-guide.md#directive-delivery): `load-buffer -` then a bracketed
`paste-buffer -p -r`, then Enter. The screen is read with `capture-pane -p`, the exit status with
`#{pane_dead_status}` (remain-on-exit on).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

from cs_harness import Workspace

DEADLINE_SECONDS = 20.0


def tmux_env(ws: Workspace) -> dict[str, str]:
    # Keeps the test's private socket: a session.open run from here must never reach the default server.
    return ws.server_env()


class SimPane:
    """One sim agent in a pane of its own tmux server (socket cs-sim-test-<random>)."""

    def __init__(self, ws: Workspace, argv: list[str], cwd: Path):
        self.ws = ws
        self.socket = f"cs-sim-test-{uuid.uuid4().hex[:10]}"
        # The sim runs under sh, which prints its exit status before exiting with it. tmux 3.3a on this kernel
        # sometimes never records a dead pane's exit status (#{pane_dead_status} stays empty and the process a
        # zombie: tmux never sees its SIGCHLD; a plain multi-threaded Python program shows the same), so the
        # status is read from #{pane_dead_status} when tmux has it and from sh's line otherwise.
        self.tmux(
            "new-session", "-d", "-x", "200", "-y", "50", "-c", str(cwd),
            "sh", "-c", '"$@"; s=$?; echo "[exit status $s]"; exit $s', "sh", *argv,
            ";", "set-option", "-g", "remain-on-exit", "on",
        )
        self.pane = self.tmux("display-message", "-p", "-t", "=", "#{pane_id}").strip() or "%0"

    def tmux(self, *args: str, input: str | None = None) -> str:
        r = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            input=input, capture_output=True, text=True, timeout=15, env=tmux_env(self.ws),
        )
        assert r.returncode == 0, f"tmux {args[0]} failed: {r.stderr.strip()}"
        return r.stdout

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=15)

    def screen(self) -> str:
        """The whole pane, scrollback included, with trailing blank lines dropped."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.pane).rstrip("\n")

    def markers(self) -> list[str]:
        return [line for line in self.screen().splitlines() if line.startswith("[sim] ")]

    def wait_for(self, predicate, what: str, timeout: float = DEADLINE_SECONDS) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(0.05)

    def wait_marker_count(self, marker: str, n: int) -> str:
        return self.wait_for(
            lambda t: [line for line in t.splitlines()].count(marker) >= n, f"{n}× {marker!r}"
        )

    def paste(self, text: str) -> None:
        """docs/runtime-guide.md#directive-delivery: load-buffer from stdin, bracketed paste keeping line feeds, then Enter."""
        buf = f"cs-test-{uuid.uuid4().hex[:8]}"
        self.tmux("load-buffer", "-b", buf, "-", input=text)
        self.tmux("paste-buffer", "-p", "-r", "-d", "-b", buf, "-t", self.pane)
        time.sleep(0.15)
        self.tmux("send-keys", "-t", self.pane, "Enter")

    def type_line(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.pane, "-l", text)
        self.tmux("send-keys", "-t", self.pane, "Enter")

    def dead_status(self, timeout: float = DEADLINE_SECONDS) -> int:
        """The exit status of the pane's program, once it is dead."""
        deadline = time.monotonic() + timeout
        dead_since = None
        while True:
            out = self.tmux("display-message", "-p", "-t", self.pane, "#{pane_dead} #{pane_dead_status}").split()
            if len(out) == 2 and out[0] == "1":
                return int(out[1])
            if out and out[0] == "1":
                dead_since = dead_since or time.monotonic()
                if time.monotonic() - dead_since > 1.0:
                    found = re.findall(r"^\[exit status (\d+)\]$", self.screen(), re.M)
                    assert found, f"dead pane without a status; screen:\n{self.screen()}"
                    return int(found[-1])
            if time.monotonic() > deadline:
                raise AssertionError(f"the sim did not exit; screen:\n{self.screen()}")
            time.sleep(0.05)


def read_inputs(repo: Path, thread: int) -> list[dict]:
    path = repo / ".codestrator" / "run" / f"sim_{thread}_inputs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def cli(ws: Workspace, method: str, params: dict) -> dict:
    r = subprocess.run(
        [ws.binary, "call", method, "--params", json.dumps(params), "--repo", str(ws.repo)],
        capture_output=True, text=True, timeout=60, env=tmux_env(ws), cwd=str(ws.repo),
    )
    assert r.returncode == 0, f"codestrator call {method} failed: {r.stdout} {r.stderr}"
    return json.loads(r.stdout)


def now_ts() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def insert_worker_thread(ws: Workspace, session: dict) -> tuple[int, Path]:
    """A running worker thread of the session, working in the session root worktree (no spawn needed)."""
    root = session["session_context"]["root_thread"]
    wt = session["session_context"]["session_root_worktree"]
    ts = now_ts()
    db = sqlite3.connect(ws.repo / ".codestrator" / "state.db", timeout=10)
    try:
        cur = db.execute(
            """INSERT INTO threads (session_id, parent_thread_id, role, status, status_changed_at, status_source,
                 worktree_id, workdir, created_at, updated_at)
               VALUES (?, ?, 'worker', 'running', ?, 'spawn', ?, ?, ?, ?)""",
            (root["session_id"], root["id"], ts, wt["id"], wt["path"], ts, ts),
        )
        db.commit()
        return cur.lastrowid, Path(wt["path"])
    finally:
        db.close()


def sim_events(ws: Workspace, thread: int) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(ws.repo / ".codestrator" / "state.db", timeout=10)
    try:
        return db.execute(
            "SELECT event, provider_status, message FROM thread_events"
            " WHERE thread_id = ? AND source = 'sim' ORDER BY id",
            (thread,),
        ).fetchall()
    finally:
        db.close()


def test_sim_echo_in_tmux_takes_pastes_verbatim_and_exits_zero(ws: Workspace):
    pane = SimPane(
        ws,
        [ws.binary, "sim-agent", "--scenario", "echo", "--repo", str(ws.repo), "--role", "worker", "--thread-id", "41"],
        ws.repo,
    )
    try:
        pane.wait_marker_count("[sim] status: idle", 1)
        assert pane.markers()[0] == "[sim] codestrator sim-agent thread 41 (worker) scenario echo"

        text = 'first line\nsecond "quoted" line \\ é\ttab'
        pane.paste(text)
        screen = pane.wait_marker_count("[sim] reply-end", 1)
        lines = screen.splitlines()
        begin = lines.index("[sim] reply-begin")
        end = lines.index("[sim] reply-end")
        assert lines[begin + 1 : end] == text.expandtabs(8).split("\n"), screen  # the screen shows tabs as spaces
        pane.wait_marker_count("[sim] status: idle", 2)
        assert pane.markers() == [
            "[sim] codestrator sim-agent thread 41 (worker) scenario echo",
            "[sim] status: idle",
            "[sim] status: working",
            "[sim] reply-begin",
            "[sim] reply-end",
            "[sim] status: done",
            "[sim] status: idle",
        ]
        inputs = read_inputs(ws.repo, 41)
        assert [i["text"] for i in inputs] == [text]
        assert len(inputs[0]["at"]) == 24 and inputs[0]["at"].endswith("Z")

        # A second input, typed: echoed back; Escape at the idle prompt changes nothing.
        pane.tmux("send-keys", "-t", pane.pane, "Escape")
        pane.type_line("again")
        pane.wait_marker_count("[sim] reply-end", 2)
        pane.wait_marker_count("[sim] status: idle", 3)
        assert [i["text"] for i in read_inputs(ws.repo, 41)] == [text, "again"]

        pane.type_line("/exit")
        assert pane.dead_status() == 0
        assert pane.markers()[-1] == "[sim] bye"
        assert "[sim] bye\n[exit status 0]" in pane.screen()
        # /exit is a command, not an input.
        assert len(read_inputs(ws.repo, 41)) == 2
    finally:
        pane.kill()


def test_sim_worker_basic_does_its_case_through_mcp_and_commits(ws: Workspace):
    cli(ws, "workspace.init", {})
    session = cli(ws, "session.open", {"intent": "new_work", "user_request": "Sim worker", "agent_role": "sim"})
    session_id = session["session_context"]["session"]["id"]
    thread, workdir = insert_worker_thread(ws, session)

    epic = cli(ws, "task.create", {"level": "epic", "title": "Sim epic", "session_id": session_id})
    feature = cli(ws, "task.create", {"level": "feature", "title": "Sim feature", "parent_id": epic["id"]})
    group = cli(ws, "task.create", {"level": "testgroup", "title": "Sim tests", "parent_id": feature["id"]})
    case = cli(
        ws,
        "task.create",
        {
            "level": "case", "title": "Sim case", "parent_id": group["id"], "assignee_thread_id": thread,
            "steps": ["write the form", "validate the input"],
        },
    )
    case_id = case["id"]

    pane = SimPane(
        ws,
        [
            ws.binary, "sim-agent", "--scenario", "worker-basic", "--repo", str(workdir), "--role", "worker",
            "--thread-id", str(thread), "--speed", "0.2",
        ],
        workdir,
    )
    try:
        pane.wait_marker_count("[sim] status: idle", 1)
        assignment = {
            "codestrator_assignment": {
                "session_id": session_id, "thread_id": thread, "role": "worker",
                "parent_thread_id": session["session_context"]["root_thread"]["id"],
                "worktree_id": session["session_context"]["session_root_worktree"]["id"],
                "case_ids": [case_id], "task_ids": [], "node_ids": [], "merge_request_id": None,
                "review_job_id": None, "queue_item_id": None, "task_spec": {},
            }
        }
        prompt = (
            f"# Codestrator assignment: thread {thread} (worker) in session {session_id}\n"
            "You are a child agent started by Codestrator.\n\n## Assignment\nSim case\n"
            "Start with work.current_ref, then resume.next, then case.begin; "
            "finish with case.complete and work.report.\n\n"
            f"```json\n{json.dumps(assignment)}\n```\n"
        )
        pane.paste(prompt)
        screen = pane.wait_marker_count("[sim] status: done", 1)
        lines = screen.splitlines()
        assert lines.count("[sim] call step.check → ok") == 2, screen
        for expected in (
            "[sim] call work.current_ref → ok",
            "[sim] call resume.next → ok",
            "[sim] call task.get → ok",
            "[sim] call case.begin → ok",
            "[sim] call case.complete → ok",
        ):
            assert expected in lines, f"{expected!r} missing:\n{screen}"
        assert any(line.startswith("[sim] call work.report → ") for line in lines), screen

        got = cli(ws, "task.get", {"task_id": case_id})
        assert got["status"] == "done", got
        assert [s["status"] for s in got["steps"]] == ["done", "done"], got["steps"]

        tracked = subprocess.run(
            ["git", "-C", str(workdir), "ls-files", "sim"], capture_output=True, text=True, check=True
        ).stdout.split()
        assert tracked == [f"sim/case_{case_id}_step_1.txt", f"sim/case_{case_id}_step_2.txt"]
        dirty = subprocess.run(
            ["git", "-C", str(workdir), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout
        assert dirty == "", dirty
        assert read_inputs(ws.repo, thread)[0]["text"] == prompt

        # A directive after the assignment: acknowledged, written, committed.
        pane.paste("rename the button")
        pane.wait_for(
            lambda t: "ack: rename the button" in t and t.splitlines().count("[sim] status: idle") >= 3,
            "the directive's reply and idle",
        )
        assert (workdir / "sim" / f"directive_{thread}_1.txt").read_text() == "rename the button\n"

        events = sim_events(ws, thread)
        kinds = [(e, s) for e, s, _ in events]
        assert ("prompt_submit", "processing") in kinds and ("turn_complete", "idle") in kinds, events
        assert kinds[0] == ("turn_complete", "idle"), events  # idle at start

        pane.type_line("/exit")
        assert pane.dead_status() == 0
    finally:
        pane.kill()


def test_sim_escape_interrupts_work_and_the_list_resumes_after_the_next_input(ws: Workspace):
    script = ws.tmp / "slow.json"
    script.write_text(json.dumps({
        "name": "slow",
        "on_input": [{"match": ".*", "actions": [{"work": 20}, {"say": "finished ${input}"}]}],
    }))
    pane = SimPane(
        ws,
        [
            ws.binary, "sim-agent", "--script", str(script), "--repo", str(ws.repo), "--thread-id", "6",
            "--speed", "0.05",
        ],
        ws.repo,
    )
    try:
        pane.wait_marker_count("[sim] status: idle", 1)
        assert pane.markers()[0] == "[sim] codestrator sim-agent thread 6 (worker) scenario slow"
        pane.paste("one")
        pane.wait_for(lambda t: "working… (esc to interrupt)" in t, "the spinner line")
        pane.tmux("send-keys", "-t", pane.pane, "Escape")
        pane.wait_marker_count("[sim] interrupted", 1)
        pane.paste("two")
        pane.wait_marker_count("[sim] status: done", 1)
        markers = pane.wait_marker_count("[sim] status: idle", 3)
        replies = [line for line in markers.splitlines() if line.startswith("finished ")]
        assert replies == ["finished two", "finished one"], markers
        assert [m for m in pane.markers() if "status" in m or "interrupted" in m] == [
            "[sim] status: idle", "[sim] status: working", "[sim] interrupted", "[sim] status: idle",
            "[sim] status: working", "[sim] status: done", "[sim] status: idle",
        ]
        pane.tmux("send-keys", "-t", pane.pane, "C-d")
        assert pane.dead_status() == 0
        assert pane.markers()[-1] == "[sim] bye"
    finally:
        pane.kill()


def test_sim_crash_exits_three_after_the_first_input(ws: Workspace):
    argv = [ws.binary, "sim-agent", "--scenario", "crash", "--repo", str(ws.repo), "--thread-id", "5"]
    pane = SimPane(ws, argv, ws.repo)
    try:
        pane.wait_marker_count("[sim] status: idle", 1)
        pane.paste("anything")
        assert pane.dead_status() == 3
        assert pane.markers()[-1] == "[sim] exit 3"
        assert [i["text"] for i in read_inputs(ws.repo, 5)] == ["anything"]
    finally:
        pane.kill()


def test_hook_sim_records_events_and_never_fails(ws: Workspace):
    cli(ws, "workspace.init", {})
    session = cli(ws, "session.open", {"intent": "new_work", "user_request": "Hook", "agent_role": "sim"})
    thread, _ = insert_worker_thread(ws, session)

    def hook(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ws.binary, "hook", "sim", *args], capture_output=True, text=True, timeout=10,
            env=tmux_env(ws), cwd=str(ws.repo),
        )

    r = hook("--event", "notification", "--thread-id", str(thread), "--message", "proceed? (y/n)")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = hook("--event", "activity", "--thread-id", str(thread), "--message", "x" * 5000)
    assert r.returncode == 0, r.stderr
    events = sim_events(ws, thread)
    assert events[0] == ("notification", "waiting_user_answer", "proceed? (y/n)")
    assert events[1][:2] == ("activity", "processing") and len(events[1][2]) == 4096

    # Every problem is logged and exits 0: unknown event, missing thread, unknown thread, stray flags,
    # no database.
    for args in (
        ("--event", "bogus", "--thread-id", str(thread)),
        ("--event", "stop"),
        ("--event", "stop", "--thread-id", "9999"),
        ("--event", "stop", "--thread-id", "abc", "--what", "ever"),
        ("--event", "stop", "--thread-id", str(thread), "--repo", "/nonexistent/dir"),
    ):
        r = hook(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert "codestrator hook sim:" in r.stderr, (args, r.stderr)
    assert len(sim_events(ws, thread)) == 2
