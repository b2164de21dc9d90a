"""Streamable HTTP (docs/http.md) through the official SDK: `Client` over HTTP in legacy and auto modes lists the
same tools and gets the same results as over stdio, including progress of a long `thread.child.wait_status`."""

from __future__ import annotations

import pytest

from cs_harness import http_client, ok, open_session, session_id_of, start_http_server, stop_http_server
from threads_support import spawn_case_worker

pytestmark = pytest.mark.anyio


def dump_tools(result) -> list[dict]:
    return [t.model_dump(by_alias=True, exclude_none=True) for t in result.tools]


async def same_calls(c, sid: int) -> dict:
    """The calls compared between transports: tools/list, a list of tasks, a tool failure (ping: test_http_security)."""
    tools = dump_tools(await c.list_tools())
    tasks = await ok(c, "task.list", {"session_id": sid})
    failure = await c.call_tool("orch_task", {"method": "task.get", "params": {"task_id": 999999}})
    assert failure.is_error
    return {"tools": tools, "tasks": tasks, "failure": failure.structured_content, "text": failure.content[0].text}


async def test_http_legacy_and_auto_match_stdio(ws):
    async with ws.client() as stdio:
        sid = session_id_of(await open_session(stdio))
        await ok(stdio, "task.create", {"level": "epic", "title": "HTTP check", "session_id": sid})
        expected = await same_calls(stdio, sid)
    server = start_http_server(ws)
    try:
        async with http_client(server.url, mode="legacy") as legacy:
            assert legacy.protocol_version == "2025-11-25", legacy.protocol_version
            assert await same_calls(legacy, sid) == expected
        async with http_client(server.url, mode="auto") as modern:
            assert modern.protocol_version == "2026-07-28", f"negotiated {modern.protocol_version!r}"
            assert modern.server_info is not None and modern.server_info.name == "codestrator"
            assert await same_calls(modern, sid) == expected
        # Several clients at once, each in its own session.
        async with http_client(server.url) as a, http_client(server.url) as b:
            assert (await same_calls(a, sid)) == (await same_calls(b, sid)) == expected
    finally:
        stop_http_server(server)


async def wait_with_progress(c, sid: int) -> tuple[dict, list]:
    # A case with a step keeps the slow sim busy for about 5 s, so the wait reports progress.
    _, sp = await spawn_case_worker(c, sid, "worker-slow", ["write the thing"], prefix="Progress")
    tid = sp["thread"]["id"]
    events: list = []

    async def on_progress(progress, total, message):
        events.append((progress, message))

    res = await c.call_tool(
        "orch_thread",
        {
            "method": "thread.child.wait_status",
            "params": {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 120},
        },
        progress_callback=on_progress,
    )
    assert not res.is_error, res.content
    return res.structured_content, events


@pytest.mark.parametrize("transport", ["stdio-legacy", "stdio-auto", "http-legacy", "http-auto"])
async def test_wait_status_progress(ws, transport):
    server = None
    try:
        if transport.startswith("stdio"):
            cm = ws.client(mode=transport.removeprefix("stdio-"))
        else:
            server = start_http_server(ws)
            cm = http_client(server.url, mode=transport.removeprefix("http-"))
        async with cm as c:
            sid = session_id_of(await open_session(c, agent_role="sim"))
            result, events = await wait_with_progress(c, sid)
    finally:
        if server is not None:
            stop_http_server(server)
    assert result["matched"] is True and result["achieved_status"] == "completed", result
    assert events, "no progress notification arrived"
    progress = [p for p, _ in events]
    assert progress == sorted(progress) and len(set(progress)) == len(progress), progress
    assert all(m and m.startswith("waiting for thread") for _, m in events), events
