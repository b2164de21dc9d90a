"""Harness for the integration suite: throwaway git repositories, a private tmux socket, and the real
`codestrator serve` binary driven through the official MCP Python SDK over stdio.

Nothing here runs a shell: git, tmux and the server are started with argv lists.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from spec_methods import TOOL_OF

REPO_ROOT = Path(__file__).resolve().parents[2]

# A single call must never hang the suite; the SDK turns a late reply into an error.
CALL_TIMEOUT_SECONDS = 60.0


def codestrator_bin() -> str:
    """The binary under test: $CODESTRATOR_BIN, else the debug build of this checkout."""
    return os.environ.get("CODESTRATOR_BIN") or str(REPO_ROOT / ".build" / "debug" / "codestrator")


def run_git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def make_repo(path: Path) -> Path:
    """`git init -q -b main`, a local identity, and one commit with a README."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, timeout=60)
    run_git(path, "config", "user.name", "Codestrator Test")
    run_git(path, "config", "user.email", "codestrator-test@example.invalid")
    run_git(path, "config", "commit.gpgsign", "false")
    (path / "README.md").write_text("# test repository\n", encoding="utf-8")
    run_git(path, "add", "README.md")
    run_git(path, "commit", "-q", "-m", "initial commit")
    return path


def branches(repo: Path) -> list[str]:
    out = run_git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").stdout
    return sorted(line for line in out.splitlines() if line)


def worktree_dirs(repo: Path) -> list[str]:
    d = repo / ".codestrator" / "worktrees"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def find_server_pids(binary: str, repo: Path) -> list[int]:
    """Pids of `codestrator serve --repo <repo>` processes that this test process started (its direct
    children), found by parent pid so that no other process is ever touched."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            # The command name is in parentheses and may contain spaces; fields after it are plain.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != me:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except (OSError, ValueError, IndexError):
            continue
        # argv[0] is the binary (argv[1] when it is a script run by an interpreter).
        if any(os.path.realpath(a) == os.path.realpath(binary) for a in argv[:2]) and str(repo) in argv:
            found.append(pid)
    return found


def wait_dead(pid: int, timeout: float = 10.0) -> bool:
    """True once the pid is gone or a zombie."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().decode(errors="replace").rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def kill_tmux_server(socket: str) -> None:
    """`kill-server` on the test's private socket, then SIGKILL for any process still naming that socket: a server
    that a test left exiting with a control client attached refuses new clients ("server exited unexpectedly")
    and would otherwise outlive the run, with its panes."""
    try:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=15)
    except (OSError, subprocess.SubprocessError):
        pass
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].split(b"/")[-1] == b"tmux":
            for i, a in enumerate(argv[:-1]):
                if a == b"-L" and argv[i + 1] == socket.encode():
                    try:
                        os.kill(int(entry), signal.SIGKILL)
                    except OSError:
                        pass
                    break


@dataclass
class Workspace:
    """One test's world: a temp dir, a git repository inside it, and a private tmux socket."""

    tmp: Path
    repo: Path
    tmux_socket: str
    binary: str
    logs: list[Path] = field(default_factory=list)
    # Unrecorded panes younger than this are never killed by reconciliation (120 s by default). The suite
    # ages its panes with 0, as it moves timestamps back in the database; None keeps the real default.
    pane_grace: str | None = "0"

    def server_env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(self.tmp)),
            "CODESTRATOR_TMUX_SOCKET": self.tmux_socket,
        }
        if self.pane_grace is not None:
            env["CODESTRATOR_PANE_GRACE_SECONDS"] = self.pane_grace
        for key in ("LANG", "LC_ALL", "TMPDIR", "CODESTRATOR_TMUX_ADAPTER"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def server_params(self, *extra_args: str) -> StdioServerParameters:
        return StdioServerParameters(
            command=self.binary,
            args=["serve", "--repo", str(self.repo), *extra_args],
            env=self.server_env(),
            cwd=str(self.tmp),
        )

    @asynccontextmanager
    async def client(self, *extra_args: str, mode: str = "legacy") -> AsyncIterator[Client]:
        """A connected SDK client on a fresh server process: `legacy` = the initialize handshake,
        `auto` = server/discover first (the 2026-07-28 era, docs/protocol-eras.md#2026-07-28-era)."""
        log_path = self.tmp / f"server-{len(self.logs) + 1}.stderr.log"
        self.logs.append(log_path)
        with open(log_path, "w", encoding="utf-8") as errlog:
            transport = stdio_client(self.server_params(*extra_args), errlog=errlog)
            try:
                async with Client(
                    transport, mode=mode, cache=None, read_timeout_seconds=CALL_TIMEOUT_SECONDS
                ) as c:
                    yield c
            except BaseExceptionGroup as group:
                # The SDK's task groups wrap a failed assertion or a client-side error; show it plainly.
                leaves = _leaves(group)
                if len(leaves) == 1 and isinstance(leaves[0], Exception):
                    raise leaves[0] from None
                raise

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_git(self.repo, *args, check=check)

    def kill_tmux(self) -> None:
        kill_tmux_server(self.tmux_socket)

    def dump_logs(self) -> str:
        parts = []
        for p in self.logs:
            try:
                text = p.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if text:
                parts.append(f"--- {p.name} (last 4000 chars) ---\n{text[-4000:]}")
        return "\n".join(parts)


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for e in group.exceptions:
        out.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return out


def new_workspace(tmp: Path) -> Workspace:
    repo = make_repo(tmp / "repo")
    return Workspace(
        tmp=tmp,
        repo=repo,
        tmux_socket=f"cs-test-{uuid.uuid4().hex[:12]}",
        binary=codestrator_bin(),
    )


# --------------------------------------------------------------------------------------------------------------
# Calling tools


async def call_result(client: Client, tool: str, arguments: dict[str, Any]):
    """The raw CallToolResult of tools/call."""
    return await client.call_tool(tool, arguments)


async def call(client: Client, tool: str, method: str, params: dict[str, Any] | None = None) -> tuple[bool, Any]:
    """tools/call `tool` with {"method", "params"}; returns (is_error, structuredContent)."""
    res = await client.call_tool(tool, {"method": method, "params": {} if params is None else params})
    return bool(res.is_error), res.structured_content


def _text_of(res) -> str:
    return "".join(getattr(c, "text", "") for c in (res.content or []))


async def ok(client: Client, method: str, params: dict[str, Any] | None = None, tool: str | None = None) -> dict:
    """Call `method` through its own tool; assert success; return structuredContent."""
    tool = tool or TOOL_OF[method]
    res = await client.call_tool(tool, {"method": method, "params": {} if params is None else params})
    assert not res.is_error, (
        f"{method} {json.dumps(params)[:300]} failed: {_text_of(res)!r} structured={res.structured_content!r}"
    )
    assert isinstance(res.structured_content, dict), f"{method}: structuredContent is {res.structured_content!r}"
    return res.structured_content


async def err(client: Client, method: str, params: dict[str, Any] | None = None, tool: str | None = None) -> dict:
    """Call `method`; assert isError; return structuredContent.error (with the text message checked)."""
    tool = tool or TOOL_OF[method]
    res = await client.call_tool(tool, {"method": method, "params": {} if params is None else params})
    assert res.is_error, (
        f"{method} {json.dumps(params)[:300]} unexpectedly succeeded: {json.dumps(res.structured_content)[:500]}"
    )
    sc = res.structured_content
    assert isinstance(sc, dict) and isinstance(sc.get("error"), dict), (
        f"{method}: failure without structuredContent.error: text={_text_of(res)!r} structured={sc!r}"
    )
    e = sc["error"]
    assert _text_of(res) == e.get("message"), (
        f"{method}: failure text {_text_of(res)!r} differs from error.message {e.get('message')!r}"
    )
    return e


def kill_servers(ws: Workspace) -> list[int]:
    """SIGKILL every server process this test started on ws.repo; returns their pids."""
    pids = find_server_pids(ws.binary, ws.repo)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for pid in pids:
        assert wait_dead(pid), f"server {pid} survived SIGKILL"
    return pids


# --------------------------------------------------------------------------------------------------------------
# Building blocks shared by several tests


async def open_session(client: Client, user_request: str = "Fix login page", **extra: Any) -> dict:
    """workspace.init + session.open {intent: new_work, agent_role: sim}; returns the session.open result."""
    await ok(client, "workspace.init")
    params = {"intent": "new_work", "user_request": user_request, "agent_role": "sim", **extra}
    return await ok(client, "session.open", params)


def session_id_of(opened: dict) -> int:
    sid = opened["session_context"]["session"]["id"]
    assert isinstance(sid, int) and sid >= 1, f"session id {sid!r}"
    return sid


async def plan_case(client: Client, session_id: int, steps: list[str], prefix: str = "Login") -> dict:
    """epic → feature → testgroup → case (with planned steps); returns their ids and the case's steps."""
    epic = await ok(client, "task.create", {"level": "epic", "title": f"{prefix} epic", "session_id": session_id})
    feature = await ok(client, "task.create", {"level": "feature", "title": f"{prefix} feature", "parent_id": epic["id"]})
    group = await ok(client, "task.create", {"level": "testgroup", "title": f"{prefix} tests", "parent_id": feature["id"]})
    case = await ok(
        client, "task.create", {"level": "case", "title": f"{prefix} case", "parent_id": group["id"], "steps": steps}
    )
    for t, level in ((epic, "epic"), (feature, "feature"), (group, "testgroup"), (case, "case")):
        assert t["level"] == level and t["status"] == "todo", f"created {level}: {t}"
        assert t["session_id"] == session_id, f"created {level} in session {t['session_id']}, expected {session_id}"
    assert [s["title"] for s in case["steps"]] == steps, f"case steps {case['steps']}"
    return {
        "epic": epic["id"],
        "feature": feature["id"],
        "testgroup": group["id"],
        "case": case["id"],
        "steps": case["steps"],
    }


# --------------------------------------------------------------------------------------------------------------
# Streamable HTTP (docs/http.md)


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class HTTPServer:
    """A running `codestrator serve --http` process started by this test."""

    proc: subprocess.Popen
    url: str
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return self.url.rsplit("/mcp", 1)[0]

    def stderr(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_http_server(ws: Workspace, *extra_args: str, host: str = "127.0.0.1", timeout: float = 20.0) -> HTTPServer:
    """Starts the server on a free port and waits until it listens (its stderr names the address)."""
    port = free_port()
    log_path = ws.tmp / f"http-{len(ws.logs) + 1}.stderr.log"
    ws.logs.append(log_path)
    errlog = open(log_path, "w", encoding="utf-8")
    proc = subprocess.Popen(
        [ws.binary, "serve", "--repo", str(ws.repo), "--http", "--host", host, "--port", str(port), *extra_args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=errlog,
        env=ws.server_env(),
        cwd=str(ws.tmp),
    )
    errlog.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "listening on" in log_path.read_text(encoding="utf-8", errors="replace"):
            return HTTPServer(proc=proc, url=f"http://127.0.0.1:{port}/mcp", port=port, log_path=log_path)
        if proc.poll() is not None:
            raise AssertionError(f"HTTP server exited with {proc.returncode}: {log_path.read_text()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"HTTP server did not listen within {timeout}s: {log_path.read_text()}")


def stop_http_server(server: HTTPServer) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)


@asynccontextmanager
async def http_client(url: str, mode: str = "legacy", token: str | None = None) -> AsyncIterator[Client]:
    """An SDK client over Streamable HTTP."""
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with create_mcp_http_client(headers=headers) as hc:
        transport = streamable_http_client(url, http_client=hc)
        try:
            async with Client(transport, mode=mode, cache=None, read_timeout_seconds=CALL_TIMEOUT_SECONDS) as c:
                yield c
        except BaseExceptionGroup as group:
            leaves = _leaves(group)
            if len(leaves) == 1 and isinstance(leaves[0], Exception):
                raise leaves[0] from None
            raise
