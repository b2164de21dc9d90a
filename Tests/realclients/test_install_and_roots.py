"""Scenarios 1 and 2: `codestrator install` is accepted by the real client itself, and a non-interactive root
(`codex exec`, `claude -p`) opens a session, plans and creates tasks that the state then shows."""

from __future__ import annotations

import json
import sqlite3

import pytest

from fake_model import mcp, say

pytestmark = pytest.mark.anyio


def plan_as_root(world) -> None:
    """A root that opens a session, creates an epic and a case with two steps, then answers."""
    world.model.on(
        "PLAN THE CART",
        mcp("orch_session", "workspace.init"),
        mcp("orch_session", "session.open", {"intent": "new_work", "user_request": "Cart checkout",
                                             "worktree_name": "cart-checkout"}),
        mcp("orch_task", "task.create", lambda t: {"level": "epic", "title": "Cart",
                                                  "session_id": t.last_json()["session_context"]["session"]["id"]}),
        mcp("orch_task", "task.create", lambda t: {"level": "feature", "title": "Checkout",
                                                  "parent_id": t.last_json()["id"]}),
        mcp("orch_task", "task.create", lambda t: {"level": "testgroup", "title": "Checkout API",
                                                  "parent_id": t.last_json()["id"]}),
        mcp("orch_task", "task.create", lambda t: {"level": "case", "title": "Total with tax",
                                                  "parent_id": t.last_json()["id"],
                                                  "steps": ["add tax rate", "sum the cart"]}),
        say("Planned: epic Cart with one case."),
    )


def state_tasks(world) -> list[tuple[str, str]]:
    db = sqlite3.connect(world.repo / ".codestrator" / "state.db")
    try:
        return db.execute("SELECT level, title FROM tasks ORDER BY id").fetchall()
    finally:
        db.close()


def test_codex_accepts_the_install_and_an_exec_root_plans(world):
    world.install("codex")
    listed = world.run("codex", "mcp", "list")
    assert listed.returncode == 0 and "codestrator" in listed.stdout, listed.stdout + listed.stderr
    got = world.run("codex", "mcp", "get", "codestrator", "--json")
    assert got.returncode == 0, got.stderr
    plan_as_root(world)
    run = world.run("codex", "exec", "--skip-git-repo-check", "PLAN THE CART", timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    outputs = world.model.tool_outputs()
    assert not any("denied" in o.lower() or "rejected" in o.lower() for o in outputs), outputs
    assert state_tasks(world) == [("epic", "Cart"), ("feature", "Checkout"), ("testgroup", "Checkout API"),
                                  ("case", "Total with tax")], outputs


def test_claude_accepts_the_install_and_a_print_root_plans(world):
    world.install("claude")
    listed = world.run("claude", "mcp", "list", timeout=60)
    assert listed.returncode == 0, listed.stderr
    line = next((l for l in listed.stdout.splitlines() if l.startswith("codestrator")), "")
    assert "Connected" in line, listed.stdout
    plan_as_root(world)
    # `-p` cannot show a permission prompt: the install's `permissions.allow` entry lets the root call the tools.
    run = world.run("claude", "-p", "PLAN THE CART", timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert state_tasks(world) == [("epic", "Cart"), ("feature", "Checkout"), ("testgroup", "Checkout API"),
                                  ("case", "Total with tax")], world.model.tool_outputs()


def test_claude_user_install_inside_a_project_install_registers_the_user_server(world):
    world.install("claude", scope="project")
    world.install("claude", scope="user")
    got = world.run("claude", "mcp", "get", "codestrator", timeout=60)
    assert "Scope: User config" in got.stdout and "Connected" in got.stdout, got.stdout
