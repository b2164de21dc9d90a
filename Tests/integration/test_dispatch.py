"""Tool-level dispatch: unknown methods, wrong tool, the legacy entry point, warnings (docs/protocol-eras.md#calling-a-tool, docs/protocol-eras.md#parameter-decoding)."""

from __future__ import annotations

import pytest
from mcp import MCPError

from cs_harness import call, err, ok, open_session, session_id_of
from spec_methods import methods_of

pytestmark = pytest.mark.anyio


async def test_unknown_method_and_wrong_tool(ws):
    async with ws.client() as c:
        await ok(c, "workspace.init")

        e = await err(c, "task.delete", {}, tool="orch_task")
        assert e["code"] == "invalid_params", e
        assert e["message"] == (
            'orch_task: unknown method "task.delete"; expected one of ' + "|".join(methods_of("orch_task"))
        ), e["message"]

        e = await err(c, "session.list", {}, tool="orch_task")
        assert e["code"] == "invalid_params", e
        assert e["message"] == "session.list: sent to tool orch_task; expected tool orch_session", e["message"]

        res = await c.call_tool("orch_task", {"params": {}})
        assert res.is_error, f"orch_task without method succeeded: {res.structured_content}"
        e = res.structured_content["error"]
        assert e["code"] == "invalid_params", e
        assert e["message"] == (
            "orch_task: arguments.method is required; expected one of " + "|".join(methods_of("orch_task"))
        ), e["message"]

        res = await c.call_tool("orch_task", {"method": "task.list", "params": "not an object"})
        assert res.is_error and res.structured_content["error"]["code"] == "invalid_params", (
            f"params not an object: {res.structured_content}"
        )

        with pytest.raises(MCPError) as info:
            await c.call_tool("orch_foo", {"method": "task.list"})
        assert info.value.code == -32602, f"unknown tool: {info.value.error}"
        assert 'unknown tool: "orch_foo"; expected one of orch_session' in info.value.error.message, info.value.error


async def test_legacy_entry_point_and_alias(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c))
        await ok(c, "task.create", {"level": "epic", "title": "Listed", "session_id": sid})

        via_tool = await ok(c, "task.list", {"session_id": sid})
        via_legacy = await ok(c, "task.list", {"session_id": sid}, tool="orchestrator_call")
        via_alias = await ok(c, "task.list", {"session_id": sid}, tool="orchestrator.call")
        assert via_tool["total"] == 1 and [t["title"] for t in via_tool["tasks"]] == ["Listed"], via_tool
        assert via_legacy == via_tool, f"orchestrator_call differs: {via_legacy}"
        assert via_alias == via_tool, f"orchestrator.call differs: {via_alias}"

        # A method of another tool is fine through the legacy entry point.
        sessions = await ok(c, "session.list", {}, tool="orchestrator_call")
        assert sessions["total"] == 1, sessions

        # params absent means {}.
        res = await c.call_tool("orch_session", {"method": "session.list"})
        assert not res.is_error and res.structured_content["total"] == 1, res.structured_content
        res = await c.call_tool("orch_session", {"method": "session.list", "params": None})
        assert not res.is_error and res.structured_content["total"] == 1, res.structured_content


async def test_every_listed_method_is_implemented(ws):
    # Every method tools/list offers the root has a handler: none answers not_implemented (the
    # not_implemented path itself is covered by a Swift test with a registry of its own).
    async with ws.client() as c:
        await ok(c, "workspace.init")
        tools = {t.name: t for t in (await c.list_tools()).tools}
        probed = 0
        for name, tool in tools.items():
            if name == "orchestrator_call":
                continue
            for method in tool.input_schema["properties"]["method"]["enum"]:
                is_error, sc = await call(c, name, method, {"session_id": 999999})
                probed += 1
                if is_error:
                    assert sc["error"]["code"] != "not_implemented", (method, sc)
        assert probed == 69, probed


async def test_unknown_parameter_is_ignored_with_warning(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c))
        await ok(c, "task.create", {"level": "epic", "title": "Only", "session_id": sid})
        out = await ok(c, "task.list", {"sesion_id": sid})
        assert out.get("warnings") == ['unknown parameter "sesion_id" ignored (did you mean "session_id"?)'], (
            f"warnings {out.get('warnings')!r}"
        )
        assert out["total"] == 1, out

        clean = await ok(c, "task.list", {"session_id": sid})
        assert "warnings" not in clean, f"warnings present without cause: {clean.get('warnings')!r}"
