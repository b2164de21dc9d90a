"""Several server processes share one database (README "Promises", docs/protocol-eras.md#repository-and-database)."""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
import pytest

from cs_harness import call, find_server_pids, ok, session_id_of

pytestmark = pytest.mark.anyio

SERVERS = 4
PER_SERVER = 100


async def test_four_servers_write_one_database(ws):
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(ws.client()) for _ in range(SERVERS)]
        assert len(find_server_pids(ws.binary, ws.repo)) == SERVERS, "expected four distinct server processes"

        # First use by all four at once: the database is created and migrated concurrently.
        init_results: list = [None] * SERVERS

        async def init(i: int) -> None:
            init_results[i] = await call(clients[i], "orch_session", "workspace.init", {})

        async with anyio.create_task_group() as tg:
            for i in range(SERVERS):
                tg.start_soon(init, i)
        failed_inits = [(i, r) for i, r in enumerate(init_results) if r[0]]
        assert not failed_inits, f"concurrent workspace.init failed: {failed_inits}"

        sid = session_id_of(
            await ok(clients[0], "session.open", {"intent": "new_work", "user_request": "Shared session", "agent_role": "sim"})
        )

        results: list[tuple[int, int, bool, object]] = []

        async def create(i: int, n: int) -> None:
            is_error, sc = await call(
                clients[i], "orch_task", "task.create",
                {"level": "epic", "title": f"server {i} epic {n}", "session_id": sid},
            )
            results.append((i, n, is_error, sc))

        with anyio.fail_after(150):
            async with anyio.create_task_group() as tg:
                for i in range(SERVERS):
                    for n in range(PER_SERVER):
                        tg.start_soon(create, i, n)

        errors = [(i, n, sc) for (i, n, e, sc) in results if e]
        assert len(results) == SERVERS * PER_SERVER
        assert not errors, f"{len(errors)} task.create calls failed; first: {errors[:3]}"
        ids = [sc["id"] for (_i, _n, _e, sc) in results]
        assert len(set(ids)) == SERVERS * PER_SERVER, "task ids are not unique"

        for c in clients:
            listed = await ok(c, "task.list", {"session_id": sid, "limit": 500})
            assert listed["total"] == SERVERS * PER_SERVER, f"task.list total {listed['total']}"
            assert listed["count"] == SERVERS * PER_SERVER, f"task.list count {listed['count']}"
            titles = {t["title"] for t in listed["tasks"]}
            assert titles == {f"server {i} epic {n}" for i in range(SERVERS) for n in range(PER_SERVER)}
