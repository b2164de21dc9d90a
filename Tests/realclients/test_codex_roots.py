"""Scenario 10: two interactive Codex roots in one repository, with the app-server daemon as shipped. Both
roots' MCP servers are children of the one daemon and share its environment, so nothing about the process
tree or the terminal tells them apart. Codex names its conversation in every tool call and on every hook's
standard input; Codestrator binds each session to that, and each root's compaction hook restores its own
session."""

from __future__ import annotations

import os
import time

import pytest

from capture_screens import launch, paste  # noqa: E402
from fake_model import mcp, say

pytestmark = pytest.mark.anyio


def start_root(world, name: str, *flags: str) -> str:
    """A Codex TUI in the repository, as its user starts it: trusted, its hooks trusted once (install's next
    step), daemon mode unless `flags` say otherwise."""
    pane = launch(world, ["codex", "--no-alt-screen", *flags])
    deadline = time.time() + 30
    while time.time() < deadline:
        s = world.tmux("capture-pane", "-p", "-t", pane).stdout
        if "Trust this folder" in s and "Trust and continue" in s:
            world.tmux("send-keys", "-t", pane, "Enter")
        elif "Hooks need review" in s and "esc skip" in s:
            world.tmux("send-keys", "-t", pane, "Enter" if "› 2. Trust all" in s else "2")
        elif "default · " in s:
            return pane
        time.sleep(0.3)
    raise AssertionError(f"root {name} never became idle:\n{s}")


def wait_turn(world, pattern: str, timeout: float = 30) -> None:
    world.model.wait_for(lambda: any(e.ended for e in world.model.prompts(pattern)), timeout, pattern)


def test_two_codex_roots_behind_the_daemon_each_restore_their_own_session(world):
    world.install("codex")
    for who, slug in (("ALPHA", "alpha-cart"), ("BETA", "beta-login")):
        world.model.on(f"OPEN {who}", mcp("orch_session", "workspace.init"),
                       mcp("orch_session", "session.open", {"intent": "new_work", "user_request": f"{who} work",
                                                            "worktree_name": slug}),
                       say(f"{who} opened"))
        world.model.on(f"AFTER {who}", say(f"{who} resumed"))
    a = start_root(world, "A")
    paste(world, a, "OPEN ALPHA")
    wait_turn(world, "OPEN ALPHA")
    b = start_root(world, "B")
    paste(world, b, "OPEN BETA")
    wait_turn(world, "OPEN BETA")
    for pane, who in ((a, "ALPHA"), (b, "BETA")):
        world.tmux("send-keys", "-t", pane, "-l", "/compact")
        time.sleep(0.3)
        world.tmux("send-keys", "-t", pane, "Enter")
        time.sleep(3)
        paste(world, pane, f"AFTER {who}")
        wait_turn(world, f"AFTER {who}")
    for who, mine, other in (("ALPHA", "alpha-cart", "beta-login"), ("BETA", "beta-login", "alpha-cart")):
        bodies = [str(r["body"]) for r in world.model.requests if f"AFTER {who}" in str(r["body"]) and
                  r["body"].get("tools")]
        assert bodies, world.model.summary()
        restored = bodies[-1][bodies[-1].find("context restored"):][:600]
        assert "context restored after compaction" in bodies[-1], bodies[-1][-2000:]
        assert f"({mine})" in restored and other not in restored, restored


def serve_pids(world) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().decode(errors="replace")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"codestrator") and argv[1] == b"serve" and \
                f"HOME={world.home}\0" in env:
            out.append(int(entry))
    return out


def test_no_daemon_roots_leave_no_server_behind(world):
    """With `--no-daemon` each root's server is the TUI's child and ends with it. (With the daemon as shipped
    the daemon keeps every server and its stdio open after the TUI exits, and sends nothing when a TUI leaves;
    docs/real-clients.md records that limit.)"""
    world.install("codex")
    world.model.on("OPEN GAMMA", mcp("orch_session", "session.list"), say("listed"))
    panes = [start_root(world, n, "--no-daemon") for n in ("A", "B")]
    for p in panes:
        paste(world, p, "OPEN GAMMA")
    world.model.wait_for(lambda: len([e for e in world.model.prompts("OPEN GAMMA") if e.ended]) >= 2, 30, "turns")
    assert len(serve_pids(world)) == 2, serve_pids(world)
    for p in panes:
        paste(world, p, "/exit")
    deadline = time.time() + 15
    while time.time() < deadline and serve_pids(world):
        time.sleep(0.2)
    assert serve_pids(world) == [], "codestrator serve outlived its --no-daemon TUI"
