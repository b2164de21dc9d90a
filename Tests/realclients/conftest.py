"""pytest fixtures of the real-client suite (see rc_world.py)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clients  # noqa: E402
from rc_world import new_world  # noqa: E402


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def pinned_clients():
    """Installs (or finds in the cache) both pinned clients once; a failure fails every test loudly."""
    try:
        return clients.versions_ok()
    except clients.ClientInstallError as e:
        pytest.exit(f"real-client suite: {e}", returncode=1)


@pytest.fixture
def world(pinned_clients):
    w = new_world()
    failed = True
    try:
        yield w
        failed = False
    finally:
        w.cleanup()
        logs = w.dump_logs()
        if logs:
            print(logs)
        if w.model:
            print("model log:\n" + w.model.summary())
        if not os.environ.get("CODESTRATOR_RC_KEEP"):
            shutil.rmtree(w.tmp, ignore_errors=True)
