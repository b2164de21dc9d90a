"""The `--peer cao` side of the footprint benchmark: CLI Agent Orchestrator 2.5.4.

bench_footprint.py imports CaoPeer and interleaves its operations with the
same operations on Codestrator. Every timing method returns seconds; the
caller computes percentiles. Run this file on its own for a quick standalone
report (see README.md in this folder).

What runs, all of it private to the work directory given:

- CAO's API server, `cao-server` (FastAPI + uvicorn), on a free loopback port.
  It owns the SQLite database, the tmux sessions and the status monitor (a
  pipe-pane per terminal feeding a FIFO, regex over the stream, a 200 ms
  quiescence debounce).
- Two long-lived MCP servers over stdio, as an agent would run them:
  `cao-mcp-server` (what each CAO worker gets; used for ping and cold start)
  and `cao-ops-mcp-server` (CAO's supervisor-facing server; its
  `get_session_info` tool is the MCP way to list workers with live status).
  Both are thin: each tool call is one or more HTTP requests to cao-server.
- Workers: CAO's `mock_cli` provider driving fake_worker.py (installed as
  `mock_cli` on the PATH of the panes' login shells).

Isolation: HOME, CAO_HOME_DIR and XDG dirs point into the work directory, so
nothing touches the user's ~/.aws or ~/.cao; TMUX_TMPDIR points at the given
socket directory and TMUX is unset, so CAO's libtmux (which uses tmux's default
socket) starts its own tmux server there and never sees the user's.

Standard library only. CAO itself is installed from PyPI into a throwaway venv
under ~/.cache/codestrator/bench/cao-2.5.4/.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

CAO_PACKAGE = "cli-agent-orchestrator"
CAO_VERSION = "2.5.4"
VENV_DIR = Path.home() / ".cache" / "codestrator" / "bench" / f"cao-{CAO_VERSION}"
SESSION = "cao-bench"  # CAO prefixes "cao-" to every session name; this one is already canonical
AGENT_PROFILE = "developer"  # a profile CAO ships built in; mock_cli ignores its prompt
PROVIDER = "mock_cli"
FAKE_WORKER = Path(__file__).resolve().with_name("fake_worker.py")
READY = ("idle", "completed")


class CaoError(RuntimeError):
    """Anything that keeps the CAO peer from giving a figure; the message says what and where."""


# ---------------------------------------------------------------------------
# Installation


def venv_bin(name: str) -> Path:
    return VENV_DIR / "bin" / name


def ensure_cao_installed() -> None:
    """Create the throwaway venv and pip-install CAO into it, unless already there."""
    python = venv_bin("python")
    if python.exists() and installed_version(python) == CAO_VERSION:
        return
    steps = [
        [sys.executable, "-m", "venv", str(VENV_DIR)],
        [str(python), "-m", "pip", "install", "--quiet", f"{CAO_PACKAGE}=={CAO_VERSION}"],
    ]
    for command in steps:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise CaoError(
                f"installing CAO failed (exit {result.returncode}): {' '.join(command)}\n"
                f"{result.stdout}{result.stderr}"
            )
    if installed_version(python) != CAO_VERSION:
        raise CaoError(f"{CAO_PACKAGE}=={CAO_VERSION} is not importable from {python} after pip install")


def installed_version(python: Path) -> str | None:
    probe = "import importlib.metadata as m; print(m.version('cli-agent-orchestrator'))"
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60)
    return result.stdout.strip() if result.returncode == 0 else None


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------
# /proc readings (Linux)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, include_reaped_children: bool = True) -> float:
    """utime+stime of a process, plus the children it has waited for (its tmux/git subprocesses)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
    ticks = int(fields[11]) + int(fields[12])
    if include_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------------------
# Clients


class McpStdio:
    """Newline-delimited JSON-RPC over a child's stdio, with a timeout on every read."""

    def __init__(self, argv: list[str], env: dict[str, str], stderr_path: Path, name: str):
        self.name = name
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "ab")
        self.process = subprocess.Popen(
            argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
        )
        self._next_id = 0
        self._pending = b""

    @property
    def pid(self) -> int:
        return self.process.pid

    def initialize(self, timeout: float) -> None:
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "codestrator-footprint-bench", "version": "1"},
            },
            timeout,
        )
        self.notify("notifications/initialized")

    def notify(self, method: str, params: dict | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def request(self, method: str, params: dict | None = None, timeout: float = 30.0) -> Any:
        self._next_id += 1
        request_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") != request_id:
                continue  # a notification or a server-side request we do not answer
            if "error" in reply:
                raise CaoError(f"{self.name}: {method} failed: {reply['error']}")
            return reply.get("result")

    def call_tool(self, tool: str, arguments: dict, timeout: float = 30.0) -> Any:
        result = self.request("tools/call", {"name": tool, "arguments": arguments}, timeout)
        if result.get("isError"):
            raise CaoError(f"{self.name}: tool {tool} failed: {result.get('content')}")
        structured = result.get("structuredContent")
        if structured is not None:
            return structured.get("result", structured)
        text = "".join(part.get("text", "") for part in result.get("content", []))
        return json.loads(text) if text else None

    def close(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                self.process.kill()
                self.process.wait(timeout)
        self._stderr.close()

    def _send(self, message: dict) -> None:
        if self.process.poll() is not None:
            raise CaoError(f"{self.name} exited ({self.process.returncode}); see {self.stderr_path}")
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def _read_message(self, deadline: float) -> dict:
        stdout = self.process.stdout.fileno()
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CaoError(f"{self.name}: no reply in time; see {self.stderr_path}")
            readable, _, _ = select.select([stdout], [], [], remaining)
            if readable:
                chunk = os.read(stdout, 65536)
                if not chunk:
                    raise CaoError(f"{self.name} closed its stdout; see {self.stderr_path}")
                self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        if not line.strip():
            return {}
        return json.loads(line)


class ApiClient:
    """One keep-alive HTTP connection to cao-server, as CAO's own clients would hold."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port = port
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, query: dict | None = None, timeout: float | None = None) -> Any:
        if query:
            path = f"{path}?{urllib.parse.urlencode(query)}"
        # Only a GET is sent again after a failure: a POST the server already carried out (its reply lost on a
        # closed keep-alive connection) would be done twice. A POST always gets a fresh connection instead.
        attempts = (1, 2) if method == "GET" else (2,)
        if method != "GET":
            self.close()
        for attempt in attempts:
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=timeout or self.timeout
                )
            self._connection.timeout = timeout or self.timeout
            try:
                self._connection.request(method, path, headers={"Content-Length": "0"} if method != "GET" else {})
                response = self._connection.getresponse()
                body = response.read()
            except (ConnectionError, http.client.HTTPException, OSError) as error:
                self.close()
                if attempt == 2:
                    raise CaoError(f"cao-server {method} {path}: {error}") from error
                continue
            if response.status >= 400:
                raise CaoError(f"cao-server {method} {path}: HTTP {response.status} {body[:500]!r}")
            return json.loads(body) if body else None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# ---------------------------------------------------------------------------
# The peer


class CaoPeer:
    name = f"CAO {CAO_VERSION}"

    def __init__(self, workdir: str, tmux_socket_dir: str):
        self.workdir = Path(workdir).resolve()
        self.tmux_socket_dir = Path(tmux_socket_dir).resolve()
        self.home = self.workdir / "home"
        self.cao_home = self.home / "cao"
        self.bin_dir = self.workdir / "bin"
        self.control_dir = self.workdir / "workers"
        self.project_dir = self.workdir / "project"
        self.log_dir = self.workdir / "logs"
        self.raw_socket = self.tmux_socket_dir / "raw-tmux"
        self.port = 0
        self.server: subprocess.Popen | None = None
        self.api: ApiClient | None = None
        self.mcp: McpStdio | None = None
        self.ops: McpStdio | None = None
        self.conductor: str | None = None  # the session's first terminal, CAO's supervisor slot
        self.conductor_spawn_s: float | None = None
        self.workers: list[str] = []  # CAO terminal ids of the workers, oldest first
        self._unsettled: list[str] = []  # workers whose deferred init has not been seen to finish
        self._next_probe = 0
        self._raw_windows = 0
        self._tmux_pid = 0
        self.last_cpu_parts: dict[str, float] = {}  # per process group, from the last cpu_per_call or idle_cpu

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        """Install if needed, start cao-server, both MCP servers and the session's conductor.
        On failure everything already started is stopped again before the error propagates."""
        ensure_cao_installed()
        try:
            self._start_processes()
        except BaseException:
            self.stop()
            raise

    def _start_processes(self) -> None:
        for directory in (self.home, self.cao_home, self.bin_dir, self.control_dir, self.project_dir, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.tmux_socket_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._install_fake_worker()
        self.port = free_loopback_port()
        server_log = open(self.log_dir / "cao-server.log", "ab")
        self.server = subprocess.Popen(
            [str(venv_bin("cao-server")), "--host", "127.0.0.1", "--port", str(self.port)],
            env=self._env(),
            cwd=self.project_dir,
            stdin=subprocess.DEVNULL,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stop() can end it and everything it forked in one go
        )
        server_log.close()
        self.api = ApiClient(self.port)
        self._wait_for_health(timeout=120.0)
        self.mcp = self._start_mcp("cao-mcp-server")
        self.ops = self._start_mcp("cao-ops-mcp-server")
        self._create_conductor()

    def stop(self) -> None:
        for client in (self.mcp, self.ops):
            if client is not None:
                client.close()
        self.mcp = self.ops = None
        if self.api is not None:
            self.api.close()
        if self.server is not None and self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.server.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.server.wait(5)
        # CAO's tmux server daemonized out of the server's process group; end it by its socket.
        for argv in (["tmux", "kill-server"], ["tmux", "-S", str(self.raw_socket), "kill-server"]):
            subprocess.run(argv, env=self._env(), capture_output=True, timeout=10)
        for pid_file in self.control_dir.glob("*.pid"):
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ValueError, OSError):  # a worker that ended meanwhile removed its pid file
                pass
        self.workers.clear()
        self._unsettled.clear()
        self.conductor = None

    def worker_count(self) -> int:
        return len(self.workers)

    # -- timings ------------------------------------------------------------

    def cold_start(self, n: int) -> list[float]:
        """Spawn a fresh cao-mcp-server and time until its initialize reply."""
        timings = []
        for index in range(n):
            started = time.perf_counter()
            client = self._spawn_mcp("cao-mcp-server", f"cold-{index}")
            try:
                client.initialize(timeout=60.0)
                timings.append(time.perf_counter() - started)
            finally:
                client.close()
        return timings

    def ping(self, n: int) -> list[float]:
        timings = []
        for _ in range(n):
            started = time.perf_counter()
            self._mcp().request("ping", timeout=10.0)
            timings.append(time.perf_counter() - started)
        return timings

    def spawn_worker(self, wait_ready: bool = False) -> float:
        """Add one worker terminal running the fake worker to the session; time until the API returns.

        By default with `defer_init=true`, the way CAO's own `assign` spawns: the call returns once the
        tmux window exists and the terminal is registered, and the provider start (shell ready, type
        `mock_cli`, see the prompt) runs in the background. That is the peer of `thread.child.spawn`
        without a readiness wait. With wait_ready=True the call is the synchronous one, which returns
        only once CAO has seen the worker idle (what `handoff` uses)."""
        query = {
            "agent_profile": AGENT_PROFILE,
            "provider": PROVIDER,
            "working_directory": str(self.project_dir),
            "defer_init": "false" if wait_ready else "true",
        }
        started = time.perf_counter()
        terminal = self._api().call("POST", f"/sessions/{SESSION}/terminals", query, timeout=120)
        elapsed = time.perf_counter() - started
        self.workers.append(terminal["id"])
        if wait_ready:
            self._require_ready(terminal)
        else:
            self._unsettled.append(terminal["id"])
        return elapsed

    def spawn_raw_tmux(self) -> float:
        """The tmux commands CAO's spawn boils down to, run back to back on a separate private server:
        new window in the working directory, pipe-pane to a reader, type the worker command, Enter."""
        self._raw_windows += 1
        tmux = ["tmux", "-S", str(self.raw_socket)]
        window = f"w{self._raw_windows}"
        started = time.perf_counter()
        if self._raw_windows == 1:
            self._tmux(tmux + ["new-session", "-d", "-s", "raw", "-n", window, "-c", str(self.project_dir)])
        else:
            self._tmux(tmux + ["new-window", "-d", "-t", "raw:", "-n", window, "-c", str(self.project_dir)])
        target = f"raw:{window}"
        self._tmux(tmux + ["pipe-pane", "-o", "-t", target, "cat > /dev/null"])
        self._tmux(tmux + ["send-keys", "-t", target, "-l", f"{PROVIDER} --delay-ms 50"])
        self._tmux(tmux + ["send-keys", "-t", target, "Enter"])
        return time.perf_counter() - started

    def list_live(self) -> float:
        """The MCP way to list all workers with live status: cao-ops-mcp-server get_session_info."""
        self._settle()
        started = time.perf_counter()
        info = self._ops().call_tool("get_session_info", {"session_name": SESSION})
        elapsed = time.perf_counter() - started
        self._check_listing(info.get("terminals") if isinstance(info, dict) else None, with_status=True)
        return elapsed

    def list_live_http(self) -> float:
        """The same list straight from cao-server (GET /sessions/{name}), without the MCP hop."""
        self._settle()
        started = time.perf_counter()
        info = self._api().call("GET", f"/sessions/{SESSION}")
        elapsed = time.perf_counter() - started
        self._check_listing(info.get("terminals"), with_status=True)
        return elapsed

    def list_stored(self) -> float | None:
        """Terminal rows without status (GET /sessions/{name}/terminals). CAO has no MCP tool for this."""
        self._settle()
        started = time.perf_counter()
        rows = self._api().call("GET", f"/sessions/{SESSION}/terminals")
        elapsed = time.perf_counter() - started
        self._check_listing(rows, with_status=False)
        return elapsed

    def screen_change_latency(self) -> float:
        """Busy→idle screen change of one worker → CAO reporting it ready.

        CAO only lets a ready terminal fall back to PROCESSING after CAO itself sent input, so the
        worker is made busy through CAO's input API (`hold` keeps the fake worker busy), and the
        timed edge is the SIGUSR2 that makes it draw its answer and a fresh prompt."""
        if not self.workers:
            raise CaoError("screen_change_latency needs at least one worker")
        self._settle()
        terminal_id = self.workers[self._next_probe % len(self.workers)]
        self._next_probe += 1
        pid = self._worker_pid(terminal_id, timeout=5.0)
        self._api().call("POST", f"/terminals/{terminal_id}/input", {"message": "hold on"})
        self._wait_for_status(terminal_id, ("processing",), timeout=15.0)
        started = time.perf_counter()
        os.kill(pid, signal.SIGUSR2)
        self._wait_for_status(terminal_id, READY, timeout=15.0)
        return time.perf_counter() - started

    def rss_after_calls(self, n: int) -> dict:
        """RSS in kB after n calls on each MCP server (ping on cao-mcp-server, get_session_info on
        cao-ops-mcp-server, which makes cao-server build the live list n times). All values are kB."""
        self.ping(n)
        for _ in range(n):
            self.list_live()
        writers = self._pipe_writer_pids()
        return {
            "mcp_server_kb": rss_kb(self._mcp().pid),
            "ops_mcp_server_kb": rss_kb(self._ops().pid),
            "api_server_kb": rss_kb(self._server_pid()),
            "tmux_server_kb": rss_kb(self._tmux_server_pid()),
            "pipe_writers_kb": sum(rss_kb(pid) for pid in writers),  # one `sh -c` + one python per pane
        }

    def cpu_per_call(self, n: int) -> float:
        """CPU seconds per list_live call: both CAO processes on the path (ops MCP server and
        cao-server, with their reaped subprocesses), the tmux server and the pipe-pane writers."""
        self._settle()
        before = self._cao_cpu_parts()
        for _ in range(n):
            self.list_live()
        return self._cpu_delta(before, 1.0 / n)

    def idle_cpu(self, seconds: float) -> float:
        """Percent of one core used by CAO's processes (+ tmux server, pipe-pane writers) while idle."""
        self._settle()
        before = self._cao_cpu_parts()
        started = time.monotonic()
        time.sleep(seconds)
        return self._cpu_delta(before, 100.0 / (time.monotonic() - started))

    # -- helpers --------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in ("TMUX", "TMUX_PANE")}
        env.update(
            {
                "HOME": str(self.home),
                "CAO_HOME_DIR": str(self.cao_home),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_DATA_HOME": str(self.home / ".local" / "share"),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "TMUX_TMPDIR": str(self.tmux_socket_dir),
                "PATH": f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}",
                "CAO_API_HOST": "127.0.0.1",
                "CAO_API_PORT": str(self.port),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        return env

    def _install_fake_worker(self) -> None:
        # CAO types `mock_cli --delay-ms 50` into a login shell, which rebuilds PATH from the
        # profile files; the private HOME's .bash_profile puts our bin directory back in front.
        wrapper = self.bin_dir / PROVIDER
        wrapper.write_text(
            "#!/bin/sh\n"
            f"exec {shell_quote(sys.executable)} {shell_quote(str(FAKE_WORKER))}"
            f" --control-dir {shell_quote(str(self.control_dir))} \"$@\"\n"
        )
        wrapper.chmod(0o755)
        # No history file: shells killed with their tmux server would write one after stop().
        profile = f"export PATH={shell_quote(str(self.bin_dir))}:\"$PATH\"\nunset HISTFILE\n"
        for name in (".bash_profile", ".profile", ".bashrc"):
            (self.home / name).write_text(profile)

    def _wait_for_health(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise CaoError(f"cao-server exited ({self.server.returncode}); see {self.log_dir / 'cao-server.log'}")
            try:
                health = self._api().call("GET", "/health", timeout=2.0)
                if health.get("status") == "ok":
                    return
            except CaoError:
                pass
            time.sleep(0.1)
        raise CaoError(f"cao-server not healthy after {timeout:.0f} s; see {self.log_dir / 'cao-server.log'}")

    def _spawn_mcp(self, program: str, label: str) -> McpStdio:
        return McpStdio(
            [str(venv_bin(program))],
            self._env(),
            self.log_dir / f"{program}-{label}.stderr",
            program,
        )

    def _start_mcp(self, program: str) -> McpStdio:
        client = self._spawn_mcp(program, "long-lived")
        try:
            client.initialize(timeout=60.0)
        except BaseException:
            client.close()
            raise
        return client

    def _create_conductor(self) -> None:
        """The session and its first terminal, which CAO treats as the conductor (supervisor).
        Workers join this session, as `assign`/`handoff` from a supervisor would add them."""
        query = {
            "agent_profile": AGENT_PROFILE,
            "provider": PROVIDER,
            "working_directory": str(self.project_dir),
            "session_name": SESSION,
        }
        started = time.perf_counter()
        terminal = self._api().call("POST", "/sessions", query, timeout=120)
        self.conductor_spawn_s = time.perf_counter() - started
        self._require_ready(terminal)
        self.conductor = terminal["id"]

    def _require_ready(self, terminal: dict) -> None:
        if terminal.get("status") not in READY:
            raise CaoError(f"CAO created terminal {terminal.get('id')} but reports it {terminal.get('status')}")
        self._worker_pid(terminal["id"], timeout=10.0)

    def _settle(self, timeout: float = 180.0) -> None:
        """Wait until every deferred worker init has finished (CAO reports it ready and the fake
        worker is up), so no measurement runs beside CAO's background provider starts."""
        deadline = time.monotonic() + timeout
        while self._unsettled:
            terminal_id = self._unsettled[0]
            remaining = max(1.0, deadline - time.monotonic())
            self._wait_for_status(terminal_id, READY, timeout=remaining)
            self._worker_pid(terminal_id, timeout=10.0)
            self._unsettled.pop(0)

    def _check_listing(self, terminals: Any, with_status: bool) -> None:
        expected = len(self.workers) + 1  # the conductor is listed with the workers
        if not isinstance(terminals, list) or len(terminals) != expected:
            count = len(terminals) if isinstance(terminals, list) else terminals
            raise CaoError(f"CAO listed {count} terminals, expected {expected}")
        if with_status and any("status" not in terminal for terminal in terminals):
            raise CaoError("CAO listed a terminal without a status")

    def _wait_for_status(self, terminal_id: str, wanted: tuple[str, ...], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = self._api().call("GET", f"/terminals/{terminal_id}").get("status")
            if status in wanted:
                return status
            time.sleep(0.001)
        raise CaoError(f"terminal {terminal_id} still {status} after {timeout:.0f} s, wanted {wanted}")

    def _worker_pid(self, terminal_id: str, timeout: float) -> int:
        path = self.control_dir / f"{terminal_id}.pid"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists():
                return int(path.read_text())
            time.sleep(0.02)
        raise CaoError(f"the fake worker of terminal {terminal_id} wrote no {path} in {timeout:.0f} s")

    def _tmux(self, argv: list[str]) -> None:
        result = subprocess.run(argv, env=self._env(), capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            raise CaoError(f"{' '.join(argv)} failed: {result.stderr.strip()}")

    def _server_pid(self) -> int:
        if self.server is None or self.server.poll() is not None:
            raise CaoError("cao-server is not running")
        return self.server.pid

    def _tmux_server_pid(self) -> int:
        # Asked once: every `tmux display-message` would itself cost the measured tmux server a little.
        if self._tmux_pid and os.path.exists(f"/proc/{self._tmux_pid}"):
            return self._tmux_pid
        result = subprocess.run(
            ["tmux", "display-message", "-p", "#{pid}"], env=self._env(), capture_output=True, text=True, timeout=10
        )
        self._tmux_pid = int(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else 0
        return self._tmux_pid

    def _pipe_writer_pids(self) -> list[int]:
        # tmux runs each pipe-pane command as `sh -c '<python> -I -S …/fifo_writer.py <fifo>'`.
        tmux_pid = self._tmux_server_pid()
        found = []
        pending = children_of(tmux_pid) if tmux_pid else []
        while pending:
            pid = pending.pop()
            if "fifo_writer" in command_line(pid):
                found.append(pid)
                pending.extend(children_of(pid))
        return found

    def _cao_cpu_parts(self) -> dict[str, float]:
        tmux_pid = self._tmux_server_pid()
        return {
            # cao-server with the tmux/git subprocesses it has reaped
            "cao_server": cpu_seconds(self._server_pid()),
            "mcp_servers": cpu_seconds(self._ops().pid) + cpu_seconds(self._mcp().pid),
            # Only the tmux server's own time: its reaped children are panes (shells), not CAO's work.
            "tmux_server": cpu_seconds(tmux_pid, include_reaped_children=False) if tmux_pid else 0.0,
            "pipe_writers": sum(cpu_seconds(pid) for pid in self._pipe_writer_pids()),
        }

    def _cpu_delta(self, before: dict[str, float], scale: float) -> float:
        after = self._cao_cpu_parts()
        self.last_cpu_parts = {key: (after[key] - before[key]) * scale for key in after}
        return sum(self.last_cpu_parts.values())

    def _api(self) -> ApiClient:
        if self.api is None:
            raise CaoError("CaoPeer.start() was not called")
        return self.api

    def _mcp(self) -> McpStdio:
        if self.mcp is None:
            raise CaoError("CaoPeer.start() was not called")
        return self.mcp

    def _ops(self) -> McpStdio:
        if self.ops is None:
            raise CaoError("CaoPeer.start() was not called")
        return self.ops


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


# ---------------------------------------------------------------------------
# Standalone run


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe(label: str, seconds: list[float]) -> str:
    ms = [value * 1000 for value in seconds]
    return (
        f"{label:<34} p50 {percentile(ms, 0.5):9.2f} ms   p90 {percentile(ms, 0.9):9.2f} ms"
        f"   min {min(ms):9.2f} ms   n={len(ms)}"
    )


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Standalone figures for CAO with fake workers.")
    parser.add_argument("--workers", default="1,8", help="comma-separated worker counts to measure at")
    parser.add_argument("--calls", type=int, default=200, help="samples per list timing")
    parser.add_argument("--rss-calls", type=int, default=1000, help="calls before the RSS reading")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the work directory for its logs")
    args = parser.parse_args(argv)
    counts = sorted(int(count) for count in args.workers.split(","))

    workdir = tempfile.mkdtemp(prefix="cao-peer-")
    sockets = tempfile.mkdtemp(prefix="cao-tmux-", dir="/tmp")  # short path: tmux socket names are limited
    peer = CaoPeer(workdir, sockets)
    print(f"work directory {workdir}, tmux sockets {sockets}", flush=True)
    try:
        started = time.perf_counter()
        peer.start()
        print(f"start (install check, cao-server healthy, 2 MCP servers, conductor) {time.perf_counter() - started:.1f} s")
        print(f"{'conductor spawn (sync, until idle)':<34} {peer.conductor_spawn_s * 1000:9.2f} ms")
        print(describe("MCP cold start (cao-mcp-server)", peer.cold_start(5)))
        print(describe("MCP ping", peer.ping(args.calls)))
        spawns: list[float] = []
        raw: list[float] = []
        for count in counts:
            while peer.worker_count() < count:
                spawns.append(peer.spawn_worker())
                raw.append(peer.spawn_raw_tmux())
            print(f"--- {peer.worker_count()} workers (+ the conductor)")
            print(describe("spawn worker (defer_init)", spawns))
            print(describe("raw tmux commands of a spawn", raw))
            print(describe("list live (ops MCP get_session_info)", [peer.list_live() for _ in range(args.calls)]))
            print(describe("list live (HTTP GET /sessions/x)", [peer.list_live_http() for _ in range(args.calls)]))
            print(describe("list stored (HTTP, no status)", [peer.list_stored() for _ in range(args.calls)]))
            print(describe("screen change → ready", [peer.screen_change_latency() for _ in range(10)]))
            cpu = peer.cpu_per_call(args.calls) * 1000
            parts = ", ".join(f"{key} {value * 1000:.2f}" for key, value in peer.last_cpu_parts.items())
            print(f"{'CPU per live list':<34} {cpu:.2f} ms ({parts})")
            idle = peer.idle_cpu(args.idle_seconds)
            parts = ", ".join(f"{key} {value:.2f}" for key, value in peer.last_cpu_parts.items())
            print(f"{'idle CPU':<34} {idle:.2f} % of a core over {args.idle_seconds:.0f} s ({parts})")
        print(describe("spawn worker (sync, until idle)", [peer.spawn_worker(wait_ready=True) for _ in range(3)]))
        print(f"RSS after {args.rss_calls} calls each: {peer.rss_after_calls(args.rss_calls)}")
    except CaoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        peer.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(sockets, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
