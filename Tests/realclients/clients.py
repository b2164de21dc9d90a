"""The pinned real clients: where they come from (PyPI only), where they are cached, how to run them offline.

The pins live here and nowhere else. A client is installed once into a cache folder outside the checkout
(`$CODESTRATOR_CLIENTS_CACHE`, default `~/.cache/codestrator/clients`), keyed by its version, so CI and later runs
reuse it. A failed download fails the suite with the command and its output: it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

CODEX_PACKAGE = "openai-codex-cli-bin"
CODEX_VERSION = "0.163.0"
CLAUDE_PACKAGE = "claude-agent-sdk"
CLAUDE_PACKAGE_VERSION = "0.2.184"
CLAUDE_VERSION = "2.1.327"

CACHE = Path(os.environ.get("CODESTRATOR_CLIENTS_CACHE") or Path.home() / ".cache" / "codestrator" / "clients")


class ClientInstallError(RuntimeError):
    pass


def _run(argv: list[str], what: str, timeout: float = 900) -> None:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ClientInstallError(f"{what}: {' '.join(argv)} failed: {e}") from e
    if p.returncode != 0:
        raise ClientInstallError(
            f"{what}: {' '.join(argv)} exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}\n"
            "The real-client suite needs PyPI (or a filled cache at $CODESTRATOR_CLIENTS_CACHE).")


def codex_binary() -> Path:
    """Codex CLI from the `openai-codex-cli-bin` wheel (it installs no console script)."""
    home = CACHE / f"codex-{CODEX_VERSION}"
    exe = home / "bin" / "codex"
    if exe.is_file():
        return exe
    tmp = CACHE / f".codex-{CODEX_VERSION}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "--target",
          str(tmp / "site"), f"{CODEX_PACKAGE}=={CODEX_VERSION}"], f"installing Codex CLI {CODEX_VERSION}")
    found = list((tmp / "site").glob("codex_cli_bin/bin/codex"))
    if not found:
        raise ClientInstallError(f"the {CODEX_PACKAGE} wheel has no codex_cli_bin/bin/codex")
    (tmp / "bin").mkdir()
    # Keep the wheel's folder whole: codex runs the bwrap and helper binaries that sit beside it.
    os.symlink(Path("..") / found[0].relative_to(tmp), tmp / "bin" / "codex")
    shutil.rmtree(home, ignore_errors=True)
    tmp.rename(home)
    return exe


def claude_binary() -> Path:
    """Claude Code, as bundled in the `claude-agent-sdk` wheel (`claude_agent_sdk/_bundled/claude`)."""
    home = CACHE / f"claude-{CLAUDE_VERSION}"
    exe = home / "bin" / "claude"
    if exe.is_file():
        return exe
    tmp = CACHE / f".claude-{CLAUDE_VERSION}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps", "-d",
          str(tmp / "wheel"), f"{CLAUDE_PACKAGE}=={CLAUDE_PACKAGE_VERSION}"],
         f"downloading Claude Code {CLAUDE_VERSION} ({CLAUDE_PACKAGE} {CLAUDE_PACKAGE_VERSION})")
    wheels = list((tmp / "wheel").glob("*.whl"))
    if not wheels:
        raise ClientInstallError(f"pip download of {CLAUDE_PACKAGE} left no wheel")
    (tmp / "bin").mkdir()
    with zipfile.ZipFile(wheels[0]) as z:
        with z.open("claude_agent_sdk/_bundled/claude") as src, open(tmp / "bin" / "claude", "wb") as dst:
            shutil.copyfileobj(src, dst)
    os.chmod(tmp / "bin" / "claude", 0o755)
    shutil.rmtree(tmp / "wheel")
    shutil.rmtree(home, ignore_errors=True)
    tmp.rename(home)
    return exe


def versions_ok() -> dict[str, str]:
    out = {}
    for name, exe in (("codex", codex_binary()), ("claude", claude_binary())):
        p = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
        out[name] = p.stdout.strip()
    return out


if __name__ == "__main__":
    print(versions_ok())
