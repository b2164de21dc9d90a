"""Worktree slugs and the all-or-nothing promise of session.open (docs/methods.md#orch_session--codestrator-sessions, docs/runtime-guide.md#worktrees-and-slugs)."""

from __future__ import annotations

import pytest

from cs_harness import branches, err, ok, worktree_dirs

pytestmark = pytest.mark.anyio


async def test_slug_collision_and_rejected_open_leaves_nothing(ws):
    async with ws.client() as c:
        await ok(c, "workspace.init")
        first = await ok(c, "session.open", {"intent": "new_work", "user_request": "Fix login", "agent_role": "sim"})
        second = await ok(c, "session.open", {"intent": "new_work", "user_request": "Fix login", "agent_role": "sim"})
        assert first["worktree_slug"] == "fix-login", f"first slug {first['worktree_slug']!r}"
        assert second["worktree_slug"] == "fix-login-2", f"second slug {second['worktree_slug']!r}"
        assert first["session_context"]["session"]["id"] != second["session_context"]["session"]["id"]
        for slug in ("fix-login", "fix-login-2"):
            assert (ws.repo / ".codestrator" / "worktrees" / slug).is_dir(), f"worktree dir {slug} missing"
            assert ws.git("branch", "--list", f"codestrator/{slug}").stdout.strip(), f"branch codestrator/{slug} missing"

        before_sessions = (await ok(c, "session.list", {"status": "all"}))["total"]
        before_dirs = worktree_dirs(ws.repo)
        before_branches = branches(ws.repo)
        assert before_sessions == 2, f"session.list total {before_sessions}"

        e = await err(
            c,
            "session.open",
            {"intent": "new_work", "user_request": "Fix login", "agent_role": "sim", "base_ref": "does-not-exist"},
        )
        assert e["code"] in ("invalid_params", "not_found"), f"bad base_ref code {e['code']!r}: {e['message']}"
        assert e["message"] == (
            'session.open: base_ref "does-not-exist" does not name a commit; expected a branch, tag or commit'
        ), e["message"]

        after = await ok(c, "session.list", {"status": "all"})
        assert after["total"] == before_sessions, f"rejected session.open left a session row: {after['total']} sessions"
        assert worktree_dirs(ws.repo) == before_dirs, f"worktree dirs {before_dirs} -> {worktree_dirs(ws.repo)}"
        assert branches(ws.repo) == before_branches, f"branches {before_branches} -> {branches(ws.repo)}"
        wt_list = ws.git("worktree", "list", "--porcelain").stdout
        assert "fix-login-3" not in wt_list, f"git worktree list shows a leftover: {wt_list}"


async def test_request_slugs_carry_the_task_not_the_politeness(ws):
    """The words that carry the task name the worktree (docs/architecture.md, "Slugs")."""
    async with ws.client() as c:
        await ok(c, "workspace.init")
        for request, want in (
            ("Please add a checkout flow with tax calculation, including coupons", "checkout-tax"),
            ("I want you to fix the login redirect bug", "login-redirect"),
            ("Could you refactor the payment module?", "refactor-payment"),
        ):
            opened = await ok(c, "session.open", {"intent": "new_work", "user_request": request, "agent_role": "sim"})
            assert opened["worktree_slug"] == want, (request, opened["worktree_slug"])
            assert opened["branch"] == f"codestrator/{want}", opened["branch"]
        # A worktree_name still wins.
        opened = await ok(
            c, "session.open",
            {"intent": "new_work", "user_request": "Please add a cart", "worktree_name": "Cart API", "agent_role": "sim"})
        assert opened["worktree_slug"] == "cart-api", opened["worktree_slug"]
