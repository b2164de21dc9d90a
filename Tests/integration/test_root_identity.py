"""A root finds its own session after a server restart or a compaction, by its terminal and not by its
parent process: `work.current_ref {}` / `resume.next {}` without session_id, and `codestrator hook
session-start`, with two roots in one repository (each in its own tmux pane)."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager

import pytest

from cs_harness import err, ok, open_session, plan_case, session_id_of

pytestmark = pytest.mark.anyio

STEPS = ["write test", "implement"]


def pane(n: int) -> dict[str, str]:
    """The variables tmux gives a process in pane %n (a fake server socket: nothing connects to it)."""
    return {"TMUX": f"/tmp/cs-root-identity-{n},1,0", "TMUX_PANE": f"%{n}"}


@contextmanager
def terminal(ws, extra: dict[str, str]):
    """Servers started in this block run with `extra` in their environment."""
    base = ws.server_env
    ws.server_env = lambda: {**base(), **extra}
    try:
        yield
    finally:
        ws.server_env = base


def hook(ws, extra: dict[str, str]) -> str:
    r = subprocess.run(
        [ws.binary, "hook", "session-start"], cwd=ws.repo, env={**ws.server_env(), **extra},
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return r.stdout


async def start_root(ws, n: int, request: str, prefix: str, own_check: bool = True) -> tuple[int, int, list[dict]]:
    """Root in pane %n: a session, a case begun and its first step checked."""
    with terminal(ws, pane(n)):
        async with ws.client() as c:
            sid = session_id_of(await open_session(c, request))
            ids = await plan_case(c, sid, STEPS, prefix=prefix)
            await ok(c, "case.begin", {"case_id": ids["case"]})
            await ok(c, "step.check", {"case_id": ids["case"], "step_id": ids["steps"][0]["id"], "result": "red"})
            if own_check:
                # The server that opened the session knows it without session_id.
                ref = await ok(c, "work.current_ref", {})
                assert ref["current_ref"]["node_id"] == ids["case"], ref
    return sid, ids["case"], ids["steps"]


async def test_root_current_ref_after_a_restart_is_its_own_sessions(ws):
    sa, case_a, steps_a = await start_root(ws, 1, "Add checkout tax", "Checkout")
    sb, case_b, steps_b = await start_root(ws, 2, "Fix the login redirect", "Login")
    assert sa != sb
    for n, sid, case_id, steps in ((1, sa, case_a, steps_a), (2, sb, case_b, steps_b)):
        with terminal(ws, pane(n)):
            async with ws.client() as c:  # a new server process: it opened nothing yet
                ref = await ok(c, "work.current_ref", {})
                assert ref["source"] == "current_refs", ref
                assert ref["current_ref"]["session_id"] == sid, ref["current_ref"]
                assert ref["current_ref"]["node_id"] == case_id and ref["task"]["id"] == case_id, ref
                assert ref["next_step"]["id"] == steps[1]["id"], ref["next_step"]
                acked = await ok(c, "work.current_ref.ack", {"ref_id": ref["current_ref"]["id"]})
                assert acked["acked_version"] == ref["current_ref"]["version"], acked
                nxt = await ok(c, "resume.next", {})
                assert nxt["scope"]["session_id"] == sid and nxt["task"]["id"] == case_id, nxt
                # session.open {intent: auto} resumes this terminal's session, not the other root's.
                opened = await ok(c, "session.open", {"intent": "auto"})
                assert opened["resumed"] is True and session_id_of(opened) == sid, opened


async def test_an_unknown_root_is_told_which_call_finds_its_session(ws):
    await start_root(ws, 1, "Add checkout tax", "Checkout")
    await start_root(ws, 2, "Fix the login redirect", "Login")
    with terminal(ws, pane(3)):
        async with ws.client() as c:
            for method in ("work.current_ref", "resume.next"):
                e = await err(c, method, {})
                assert e["code"] == "invalid_params" and e["field"] == "session_id", e
                text = e["message"] + " " + e.get("expected", "")
                assert 'session.open {intent: "auto"}' in text and "session.list" in text, e


async def test_two_roots_each_get_their_own_session_from_the_compaction_hook(ws):
    sa, case_a, _ = await start_root(ws, 1, "Add checkout tax", "Checkout", own_check=False)
    sb, case_b, _ = await start_root(ws, 2, "Fix the login redirect", "Login", own_check=False)
    out_a = hook(ws, pane(1))
    assert f"Open session {sa} (" in out_a and "Checkout case" in out_a, out_a
    out_b = hook(ws, pane(2))
    assert f"Open session {sb} (" in out_b and "Login case" in out_b, out_b
    # CODESTRATOR_SESSION_ID names the session outright.
    out = hook(ws, {**pane(3), "CODESTRATOR_SESSION_ID": str(sb)})
    assert f"Open session {sb} (" in out, out
    # A terminal bound to neither: the candidates, not a guess.
    out = hook(ws, pane(3))
    assert "Open session" not in out, out
    assert f"  - session {sa} (" in out and f"  - session {sb} (" in out, out
    assert 'session.open {intent: "auto"}' in out, out


async def test_an_http_server_shared_by_clients_names_no_default_session(ws):
    from cs_harness import http_client, start_http_server, stop_http_server

    sa, _, _ = await start_root(ws, 1, "Add checkout tax", "Checkout")
    server = start_http_server(ws)
    try:
        async with http_client(server.url) as a:
            opened = await ok(a, "session.open", {"intent": "new_work", "user_request": "Other", "agent_role": "sim"})
            assert session_id_of(opened) != sa
            e = await err(a, "work.current_ref", {})
            assert e["field"] == "session_id" and "several clients" in e["message"], e
            ref = await ok(a, "work.current_ref", {"session_id": sa})
            assert ref["current_ref"]["session_id"] == sa, ref
    finally:
        stop_http_server(server)
