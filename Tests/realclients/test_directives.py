"""Scenario 5 and 6: directives and stop against the real TUIs."""

from __future__ import annotations

import os
import time

import pytest

from cs_harness import ok
from fake_model import say
from rc_steps import open_real_session, screen_shows, spawn_child, wait_model, wait_status

pytestmark = pytest.mark.anyio

PROVIDERS = ["codex", "claude_code"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_interrupt_patch_arrives_as_its_own_message(world, provider):
    world.model.on("LONG TASK", say("long answer", delay=40))
    world.model.on("PATCH: use tabs", say("patched"))
    async with world.client() as c:
        sid = await open_real_session(c, provider)
        tid, pane, _ = await spawn_child(c, world, sid, provider, initial_prompt="LONG TASK: format the code")
        wait_model(world, "LONG TASK")
        await wait_status(c, tid, "running")
        d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "interrupt_patch",
                                                   "directive": "PATCH: use tabs"})
        if d["result"] != "directive_sent":
            print(d.get("warnings"), d.get("delivery_error"))
            print(await ok(c, "thread.child.status", {"thread_id": tid}))
            open("/tmp/rc/claude-interrupt-screen.txt", "w").write(world.screen(pane, 200))
        assert d["result"] == "directive_sent", d
        wait_model(world, "PATCH")
        patch_turns = world.model.prompts("PATCH")
        # The patch is the whole user message: not appended to the interrupted prompt Claude restores.
        assert [e.prompt.strip() for e in patch_turns] == ["PATCH: use tabs"], patch_turns
        assert len(world.model.prompts("LONG TASK")) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_queue_is_delivered_after_the_turn_ends(world, provider):
    world.model.on("SHORT TASK", say("short answer", delay=3))
    world.model.on("QUEUED: next", say("queued done"))
    async with world.client() as c:
        sid = await open_real_session(c, provider)
        tid, pane, _ = await spawn_child(c, world, sid, provider, initial_prompt="SHORT TASK: think")
        wait_model(world, "SHORT TASK")
        d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "queue", "directive": "QUEUED: next"})
        assert d["result"] == "directive_queued", d
        assert world.model.prompts("QUEUED") == []
        deadline = time.time() + 40
        while time.time() < deadline and not world.model.prompts("QUEUED"):
            await ok(c, "thread.child.status", {"thread_id": tid})
            time.sleep(0.3)
        queued = world.model.prompts("QUEUED")
        assert len(queued) == 1, world.model.summary()
        short = world.model.prompts("SHORT TASK")[0]
        # Delivered only once the short turn (3 s of streaming) was over.
        assert queued[0].at >= short.at + 3, (short.at, queued[0].at)
        assert queued[0].prompt.strip() == "QUEUED: next"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_restart_relaunches_with_the_directive(world, provider):
    world.model.on("FIRST TASK", say("first answer"))
    async with world.client() as c:
        sid = await open_real_session(c, provider)
        tid, pane, _ = await spawn_child(c, world, sid, provider, initial_prompt="FIRST TASK: start")
        wait_model(world, "FIRST TASK")
        d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "restart",
                                                   "directive": "RESTARTED: carry on"})
        wait_model(world, "RESTARTED: carry on")
        restarted = world.model.prompts("RESTARTED")
        assert len(restarted) == 1 and "FIRST TASK" in restarted[0].prompt, restarted
        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["thread"]["restart_count"] == 1 and st["pane_exists"], st


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stop_after_interrupt_types_nothing_and_leaves_nothing(world, provider):
    world.model.on("LONG TASK", say("long answer", delay=40))
    async with world.client() as c:
        sid = await open_real_session(c, provider)
        tid, pane, _ = await spawn_child(c, world, sid, provider, initial_prompt="LONG TASK: stop me")
        wait_model(world, "LONG TASK")
        await wait_status(c, tid, "running")
        stopped = await ok(c, "thread.child.stop", {"thread_id": tid})
        assert stopped["result"] == "stopped" and stopped["exited"], stopped
        time.sleep(1)
        prompts = [e.prompt for e in world.model.prompts("")]
        assert not any("/exit" in p for p in prompts), prompts
        assert len(world.model.prompts("LONG TASK")) == 1, prompts
        panes = world.tmux("list-panes", "-a", "-F", "#{pane_id}").stdout.split()
        assert pane not in panes
        client = "codex" if provider == "codex" else "claude"
        assert not [p for p in _pids_of(client, world) if p], "the client outlived its pane"


def _pids_of(client: str, world) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().decode(errors="replace")
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if f"HOME={world.home}\0" in env and comm.startswith(client):
            out.append(int(entry))
    return out
