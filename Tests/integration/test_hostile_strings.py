"""Strings that a shell would interpret are ordinary characters (docs/protocol-eras.md#parameter-decoding; README "Promises")."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cs_harness import branches, call, err, ok, open_session, plan_case, session_id_of, worktree_dirs

pytestmark = pytest.mark.anyio

BIG = "x" * (100 * 1024)  # 102,400 bytes: over the 300-character title and 65,536-byte free-text limits
HOSTILE = [
    "quote'd \"x\"",
    "a; rm -rf /",
    "$(touch pwned)",
    "`touch pwned`",
    "line1\nline2",
    "../../etc/passwd",
    BIG,
]
# Slugs derived from the hostile strings used as user_request, in this order (a request drops the
# contraction 'd, docs/architecture.md "Slugs").
USER_REQUEST_SLUGS = ["quote-x", "rm-rf", "touch-pwned", "touch-pwned-2", "line1-line2", "etc-passwd"]
SLUG_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def _label(s: str) -> str:
    return repr(s) if len(s) < 100 else f"<{len(s)} bytes>"


def _pwned_files(roots: list[Path]) -> list[str]:
    found = []
    for root in roots:
        if (root / "pwned").exists():
            found.append(str(root / "pwned"))
        for dirpath, _dirs, files in os.walk(root):
            if "pwned" in files:
                found.append(os.path.join(dirpath, "pwned"))
    return sorted(set(found))


async def test_hostile_strings_are_inert(ws):
    problems: list[str] = []
    assert not _pwned_files([ws.tmp]), "a pwned file exists before the test"
    cwd_pwned_before = (Path.cwd() / "pwned").exists()

    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Hostile strings"))

        # --- titles: one line, ≤ 300 characters; everything else verbatim.
        for s in HOSTILE:
            is_error, sc = await call(c, "orch_task", "task.create", {"level": "epic", "title": s, "session_id": sid})
            if "\n" in s or s is BIG:
                if not is_error or sc["error"]["code"] != "invalid_params":
                    problems.append(f"title {_label(s)}: expected invalid_params, got {str(sc)[:200]}")
                continue
            if is_error:
                problems.append(f"title {_label(s)}: refused: {sc}")
                continue
            got = await ok(c, "task.get", {"task_id": sc["id"]})
            if got["title"] != s:
                problems.append(f"title {_label(s)}: stored as {got['title']!r}")

        # --- description: free text, verbatim (newline included); ≤ 65,536 bytes.
        for n, s in enumerate(HOSTILE):
            is_error, sc = await call(
                c, "orch_task", "task.create", {"level": "epic", "title": f"desc {n}", "session_id": sid, "description": s}
            )
            if s is BIG:
                if not is_error or sc["error"]["code"] != "invalid_params":
                    problems.append(f"description {_label(s)}: expected invalid_params, got {str(sc)[:200]}")
                continue
            if is_error:
                problems.append(f"description {_label(s)}: refused: {sc}")
                continue
            got = await ok(c, "task.get", {"task_id": sc["id"]})
            if got["description"] != s:
                problems.append(f"description {_label(s)}: stored as {got['description']!r}")

        # --- step.check result: free text, verbatim; ≤ 65,536 bytes. The latest check of a step wins.
        ids = await plan_case(c, sid, ["hostile step"], prefix="Hostile")
        step_id = ids["steps"][0]["id"]
        await ok(c, "case.begin", {"case_id": ids["case"]})
        for s in HOSTILE:
            is_error, sc = await call(
                c, "orch_task", "step.check", {"case_id": ids["case"], "step_id": step_id, "result": s}
            )
            if s is BIG:
                if not is_error or sc["error"]["code"] != "invalid_params":
                    problems.append(f"step.check result {_label(s)}: expected invalid_params, got {str(sc)[:200]}")
                continue
            if is_error:
                problems.append(f"step.check result {_label(s)}: refused: {sc}")
                continue
            got = await ok(c, "task.get", {"task_id": ids["case"]})
            if got["steps"][0]["evidence"]["result"] != s:
                problems.append(f"step.check result {_label(s)}: stored as {got['steps'][0]['evidence']!r}")

        # --- session.open user_request: free text, verbatim; the slug is derived from it.
        wt_root = (ws.repo / ".codestrator" / "worktrees").resolve()
        for s, want_slug in zip(HOSTILE, USER_REQUEST_SLUGS + [None]):
            before = (worktree_dirs(ws.repo), branches(ws.repo))
            is_error, sc = await call(
                c, "orch_session", "session.open", {"intent": "new_work", "user_request": s, "agent_role": "sim"}
            )
            if s is BIG:
                if not is_error or sc["error"]["code"] != "invalid_params":
                    problems.append(f"user_request {_label(s)}: expected invalid_params, got {str(sc)[:200]}")
                if (worktree_dirs(ws.repo), branches(ws.repo)) != before:
                    problems.append(f"user_request {_label(s)}: refused open left a worktree or branch")
                continue
            if is_error:
                problems.append(f"user_request {_label(s)}: refused: {sc}")
                continue
            if sc["worktree_slug"] != want_slug:
                problems.append(f"user_request {_label(s)}: slug {sc['worktree_slug']!r}, expected {want_slug!r}")
            path = Path(sc["worktree_path"]).resolve()
            if path.parent != wt_root or not path.is_dir():
                problems.append(f"user_request {_label(s)}: worktree at {path}, outside {wt_root}")
            ctx = await ok(c, "session.context", {"session_id": sc["session_context"]["session"]["id"]})
            if ctx["session"]["user_request"] != s:
                problems.append(f"user_request {_label(s)}: stored as {ctx['session']['user_request']!r}")

        # --- session.open worktree_name: a name. Control characters and > 100 characters are refused; other
        # strings may be refused (invalid_params) or turned into a slug, but never leave .codestrator/worktrees/.
        for s in HOSTILE:
            before = (worktree_dirs(ws.repo), branches(ws.repo))
            is_error, sc = await call(
                c, "orch_session", "session.open", {"intent": "new_work", "worktree_name": s, "agent_role": "sim"}
            )
            if is_error:
                if sc["error"]["code"] != "invalid_params":
                    problems.append(f"worktree_name {_label(s)}: refused with {sc['error']}")
                if (worktree_dirs(ws.repo), branches(ws.repo)) != before:
                    problems.append(f"worktree_name {_label(s)}: refused open left a worktree or branch")
                continue
            if "\n" in s or s is BIG:
                problems.append(f"worktree_name {_label(s)}: accepted (slug {sc['worktree_slug']!r}); expected invalid_params")
            slug = sc["worktree_slug"] or ""
            if not SLUG_RE.fullmatch(slug):
                problems.append(f"worktree_name {_label(s)}: slug {slug!r} is not a [a-z0-9-] slug")
            path = Path(sc["worktree_path"]).resolve()
            if path.parent != wt_root or not path.is_dir():
                problems.append(f"worktree_name {_label(s)}: worktree at {path}, outside {wt_root}")
            if sc["branch"] != f"codestrator/{slug}" or f"codestrator/{slug}" not in branches(ws.repo):
                problems.append(f"worktree_name {_label(s)}: branch {sc['branch']!r}")

        e = await err(c, "task.create", {"level": "epic", "title": "line1\nline2", "session_id": sid})
        assert e["message"].startswith("task.create: ") and "expected" in e["message"], e["message"]
        assert len(e["message"]) < 1000, "error message does not cut the long value"
        e = await err(c, "task.create", {"level": "epic", "title": BIG, "session_id": sid})
        assert len(e["message"]) < 1000, f"error message repeats the 100 KB value ({len(e['message'])} chars)"

    leftovers = _pwned_files([ws.tmp, ws.repo])
    if (Path.cwd() / "pwned").exists() and not cwd_pwned_before:
        leftovers.append(str(Path.cwd() / "pwned"))
    assert not leftovers, f"a shell ran a parameter: {leftovers}"
    # Nothing may have escaped to ../../etc/passwd relative to the repository or a worktree.
    assert not (ws.tmp / "etc").exists() and not (ws.repo / ".codestrator" / "etc").exists()
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
