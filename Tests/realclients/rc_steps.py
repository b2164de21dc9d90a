"""Root-side building blocks of the real-client scenarios (the root is the test, through the MCP SDK)."""

from __future__ import annotations

import time

from cs_harness import ok


async def open_real_session(c, provider: str, request: str = "Real client run") -> int:
    await ok(c, "workspace.init")
    opened = await ok(c, "session.open", {"intent": "new_work", "user_request": request, "agent_role": provider})
    return opened["session_context"]["session"]["id"]


async def spawn_child(c, world, sid: int, provider: str, **params) -> tuple[int, str, dict]:
    spawned = await ok(c, "thread.child.spawn", {"session_id": sid, "provider": provider,
                                                 "ready_timeout_seconds": 25, **params})
    pane = spawned["tmux"]["pane_id"]
    assert spawned["tmux"]["ready_check"] == "idle" and spawned.get("delivery") != "queued", (
        f"spawn: {spawned}\nscreen:\n{world.screen(pane)}")
    return spawned["thread"]["id"], pane, spawned


async def wait_status(c, tid: int, *targets: str, timeout: int = 60) -> dict:
    return await ok(c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": list(targets),
                                                    "timeout_seconds": timeout})


def wait_model(world, pattern: str, count: int = 1, timeout: float = 30) -> None:
    world.model.wait_for(lambda: len(world.model.prompts(pattern)) >= count, timeout,
                         f"{count} turn(s) prompted with {pattern!r}")


def screen_shows(world, pane: str, text: str, timeout: float = 15) -> str:
    deadline = time.time() + timeout
    s = ""
    while time.time() < deadline:
        s = world.screen(pane)
        if text in s:
            return s
        time.sleep(0.1)
    raise AssertionError(f"pane {pane} never showed {text!r}:\n{s}")
