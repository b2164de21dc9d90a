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


@pytest.fixture
def ws(tmp_path: Path, binary: str):
    """A throwaway git repository with one commit, a private tmux socket, and the server binary."""
    workspace = new_workspace(tmp_path)
    try:
        yield workspace
    finally:
        workspace.kill_tmux()
        logs = workspace.dump_logs()
        if logs:
            # Shown by pytest only when the test fails.
            print(logs)
