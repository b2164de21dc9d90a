"""One real-client test's world: a throwaway HOME and CODEX_HOME outside the system temp folder, the pinned
clients on PATH as `codex` and `claude`, the scripted model, a git repository and a private tmux socket.

The HOME is what a user who already runs both clients has: Codex's config names the model provider, and
`~/.claude.json` has finished onboarding and approved the API key. Nothing trusts the repository or its
worktrees, nothing approves tools: that is Codestrator's job.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from cs_harness import Workspace, make_repo, codestrator_bin  # noqa: E402
from fake_model import ModelServer  # noqa: E402
import clients  # noqa: E402

API_KEY = "sk-ant-test-0000-codestrator-offline-key"
RUNS = Path(os.environ.get("CODESTRATOR_RC_RUNS") or Path.home() / ".cache" / "codestrator" / "runs")


@dataclass
class World(Workspace):
    home: Path = Path()
    codex_home: Path = Path()
    bin_dir: Path = Path()
    model: ModelServer | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def client_env(self) -> dict[str, str]:
        env = {
            "PATH": f"{self.bin_dir}:{os.environ.get('PATH', '/usr/local/bin:/usr/bin:/bin')}",
            "HOME": str(self.home),
            "CODEX_HOME": str(self.codex_home),
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{self.model.port}",
            "ANTHROPIC_API_KEY": API_KEY,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CODESTRATOR_TMUX_SOCKET": self.tmux_socket,
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "TERM": "xterm-256color",
        }
        env.update(self.extra_env)
        return env

    def server_env(self) -> dict[str, str]:
        return self.client_env()

    def run(self, *argv: str, timeout: float = 120, cwd: Path | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=self.client_env(),
                              cwd=str(cwd or self.repo), input=input)

    def install(self, client: str, scope: str = "user") -> subprocess.CompletedProcess[str]:
        p = self.run(self.binary, "install", "--client", client, "--scope", scope, "--repo", str(self.repo))
        assert p.returncode == 0, f"codestrator install --client {client}: {p.stdout}\n{p.stderr}"
        return p

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.tmux_socket, *args], capture_output=True, text=True, timeout=30,
                              env=self.client_env())

    def screen(self, pane: str, lines: int = 80) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", pane, "-S", f"-{lines}").stdout

    def cleanup(self) -> None:
        self.kill_tmux()
        # Codex's app-server daemon (when a test lets it start) lives under this CODEX_HOME.
        for pid in _pids_mentioning(str(self.home)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.model:
            self.model.stop()


def _pids_mentioning(text: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().decode(errors="replace")
        except OSError:
            continue
        if text in cmd or f"HOME={text}\0" in environ + "\0":
            out.append(int(entry))
    return out


def new_world() -> World:
    run = RUNS / uuid.uuid4().hex[:10]
    home = run / "home"
    codex_home = home / ".codex"
    bin_dir = run / "bin"
    for d in (codex_home, bin_dir):
        d.mkdir(parents=True)
    os.symlink(clients.codex_binary(), bin_dir / "codex")
    os.symlink(clients.claude_binary(), bin_dir / "claude")
    model = ModelServer().start()
    (codex_home / "config.toml").write_text(
        'model = "fake-model"\nmodel_provider = "fake"\n\n[model_providers.fake]\nname = "fake"\n'
        f'base_url = "http://127.0.0.1:{model.port}/v1"\nwire_api = "responses"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n", encoding="utf-8")
    (home / ".claude.json").write_text(json.dumps({
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": clients.CLAUDE_VERSION,
        "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
    }), encoding="utf-8")
    repo = make_repo(run / "repo")
    return World(tmp=run, repo=repo, tmux_socket=f"cs-rc-{uuid.uuid4().hex[:10]}", binary=codestrator_bin(),
                 home=home, codex_home=codex_home, bin_dir=bin_dir, model=model)
