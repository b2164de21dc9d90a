"""Records the screens of the pinned clients as classifier fixtures (Tests/CodestratorCoreTests/Fixtures/screens).

Run it after changing a pin: `.venv/bin/python Tests/realclients/capture_screens.py`. Each client runs in a tmux
pane on a private socket against the scripted model; the visible screen is saved at each state. The fixtures
are therefore captures of the real versions, never written by hand.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clients  # noqa: E402
from fake_model import mcp, say, shell  # noqa: E402
from rc_world import new_world  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "CodestratorCoreTests" / "Fixtures" / "screens"


def wait_screen(w, pane: str, needle: str, timeout: float = 15) -> str:
    """The visible screen once it shows `needle` (alternatives separated by `|`)."""
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        text = w.tmux("capture-pane", "-p", "-t", pane).stdout
        if any(n in text for n in needle.split("|")):
            time.sleep(0.3)
            return w.tmux("capture-pane", "-p", "-t", pane).stdout
        time.sleep(0.1)
    raise SystemExit(f"screen never showed {needle!r} in {pane}:\n{text}\n{w.tmux('list-panes', '-a', '-F', '#{pane_id} #{pane_dead} #{pane_current_command}').stdout}")


def save(name: str, text: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.txt").write_text(text.rstrip() + "\n", encoding="utf-8")
    print("saved", name)


def paste(w, pane: str, text: str) -> None:
    w.tmux("set-buffer", "-b", "cap", text)
    w.tmux("paste-buffer", "-p", "-d", "-b", "cap", "-t", pane)
    time.sleep(0.3)
    w.tmux("send-keys", "-t", pane, "Enter")


def launch(w, argv: list[str]) -> str:
    args = ["new-session", "-d", "-P", "-F", "#{pane_id}", "-x", "160", "-y", "40", "-c", str(w.repo)]
    p = w.tmux(*args, *argv)
    if p.returncode != 0 or not p.stdout.strip():
        raise SystemExit(f"tmux new-session failed: {p.stderr}")
    return p.stdout.strip()


def codex() -> None:
    w = new_world()
    try:
        v = clients.CODEX_VERSION
        m = w.model
        m.on("slow", say("slow answer", delay=30))
        m.on("tool please", mcp("orch_session", "session.list"))
        m.on("escalate", shell("touch /outside-the-sandbox"))
        (w.codex_home / "config.toml").write_text(
            (w.codex_home / "config.toml").read_text() + f'\n[mcp_servers.codestrator]\ncommand = "{w.binary}"\n'
            f'args = ["serve", "--repo", "{w.repo}"]\n', encoding="utf-8")
        pane = launch(w, ["codex", "--no-alt-screen", "--no-daemon"])
        save(f"codex-{v}-trust", wait_screen(w, pane, "Trust this folder"))
        w.tmux("send-keys", "-t", pane, "Enter")
        save(f"codex-{v}-idle", wait_screen(w, pane, "fake-model default"))
        paste(w, pane, "slow")
        save(f"codex-{v}-busy", wait_screen(w, pane, "esc to interrupt"))
        w.tmux("send-keys", "-t", pane, "Escape")
        save(f"codex-{v}-interrupted", wait_screen(w, pane, "interrupted"))
        paste(w, pane, "tool please")
        save(f"codex-{v}-mcp-approval", wait_screen(w, pane, "Allow the codestrator MCP server"))
    finally:
        w.cleanup()


def codex_hooks() -> None:
    w = new_world()
    try:
        v = clients.CODEX_VERSION
        w.install("codex")
        pane = launch(w, ["codex", "--no-alt-screen", "--no-daemon"])
        wait_screen(w, pane, "Trust this folder")
        w.tmux("send-keys", "-t", pane, "Enter")
        save(f"codex-{v}-hooks-review", wait_screen(w, pane, "Hooks need review"))
    finally:
        w.cleanup()


def claude() -> None:
    w = new_world()
    try:
        v = clients.CLAUDE_VERSION
        m = w.model
        m.on("slow", say("slow answer", delay=30))
        m.on("hello", say("Hello there, general."))
        m.on("escalate", shell("touch forbidden.txt"))
        pane = launch(w, ["claude", "--permission-mode", "default"])
        save(f"claude-{v}-trust", wait_screen(w, pane, "Is this a project you created"))
        w.tmux("send-keys", "-t", pane, "Down")
        time.sleep(0.5)
        w.tmux("send-keys", "-t", pane, "Enter")
        save(f"claude-{v}-idle-start", wait_screen(w, pane, "for shortcuts|⏵⏵"))
        paste(w, pane, "hello")
        save(f"claude-{v}-idle", wait_screen(w, pane, "general."))
        paste(w, pane, "slow")
        save(f"claude-{v}-busy", wait_screen(w, pane, "esc to interrupt"))
        w.tmux("send-keys", "-t", pane, "Escape")
        time.sleep(1.5)
        save(f"claude-{v}-interrupted", w.tmux("capture-pane", "-p", "-t", pane).stdout)
        w.tmux("send-keys", "-t", pane, "C-c")
        time.sleep(0.5)
        paste(w, pane, "escalate")
        save(f"claude-{v}-permission", wait_screen(w, pane, "Do you want to proceed"))
    finally:
        w.cleanup()


if __name__ == "__main__":
    which = sys.argv[1:] or ["codex", "codex_hooks", "claude"]
    for name in which:
        globals()[name]()
