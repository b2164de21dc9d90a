"""The 2026-07-28 era through the SDK's own negotiation (docs/protocol-eras.md#2026-07-28-era): `Client(..., mode="auto")` must connect
in the modern era, and list and call the same tools with the same results as `mode="legacy"`."""

from __future__ import annotations

import pytest

from cs_harness import ok, open_session, session_id_of

pytestmark = pytest.mark.anyio


async def test_auto_mode_connects_in_modern_era_with_same_results(ws):
    async with ws.client() as legacy:
        sid = session_id_of(await open_session(legacy))
        await ok(legacy, "task.create", {"level": "epic", "title": "Era check", "session_id": sid})
        legacy_tools = [t.model_dump(by_alias=True, exclude_none=True) for t in (await legacy.list_tools()).tools]
        legacy_tasks = await ok(legacy, "task.list", {"session_id": sid})
        legacy_err = await legacy.call_tool("orch_task", {"method": "task.get", "params": {"task_id": 999999}})

    async with ws.client(mode="auto") as modern:
        assert modern.protocol_version == "2026-07-28", f"negotiated {modern.protocol_version!r}"
        assert modern.server_info is not None and modern.server_info.name == "codestrator", modern.server_info
        modern_tools = [t.model_dump(by_alias=True, exclude_none=True) for t in (await modern.list_tools()).tools]
        assert [t["name"] for t in modern_tools] == [t["name"] for t in legacy_tools]
        assert modern_tools == legacy_tools, "tools/list differs between eras"
        modern_tasks = await ok(modern, "task.list", {"session_id": sid})
        assert modern_tasks == legacy_tasks, f"task.list differs: {modern_tasks} vs {legacy_tasks}"
        modern_err = await modern.call_tool("orch_task", {"method": "task.get", "params": {"task_id": 999999}})
        assert modern_err.is_error and modern_err.structured_content == legacy_err.structured_content, (
            f"error differs: {modern_err.structured_content} vs {legacy_err.structured_content}"
        )
