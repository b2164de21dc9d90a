"""pytest fixtures for the Codestrator integration suite (see cs_harness.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cs_harness import codestrator_bin, new_workspace  # noqa: E402


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def binary() -> str:
    path = codestrator_bin()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"codestrator binary not found at {path}; build it first "
            "(swift build) or set CODESTRATOR_BIN",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session", autouse=True)
def private_tmux_default():
    """Whatever a test starts without naming a socket still lands on a private tmux server, never on
    the user's default one; that server is killed at the end of the run."""
    import subprocess

    socket = f"cs-test-default-{os.getpid()}"
    previous = os.environ.get("CODESTRATOR_TMUX_SOCKET")
    os.environ["CODESTRATOR_TMUX_SOCKET"] = socket
    try:
        yield socket
    finally:
        from cs_harness import kill_tmux_server

        kill_tmux_server(socket)
        if previous is None:
            os.environ.pop("CODESTRATOR_TMUX_SOCKET", None)
        else:
            os.environ["CODESTRATOR_TMUX_SOCKET"] = previous


@pytest.fixture
def ws(tmp_path: Path, binary: str, monkeypatch):
    """A throwaway git repository with one commit, a private tmux socket, and the server binary."""
    workspace = new_workspace(tmp_path)
    # Subprocesses a test starts inherit the test's private socket.
    monkeypatch.setenv("CODESTRATOR_TMUX_SOCKET", workspace.tmux_socket)
    try:
        yield workspace
    finally:
        workspace.kill_tmux()
        logs = workspace.dump_logs()
        if logs:
            # Shown by pytest only when the test fails.
            print(logs)
