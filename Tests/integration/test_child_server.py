"""A child's server (issue 20, item 2): `serve --role worker` keeps one malloc arena, so its threads do not each hold
their own heap (docs/performance.md#a-childs-server)."""

from __future__ import annotations

import os

import pytest

from cs_harness import find_server_pids, ok
from threads_support import sim_session, spawn

pytestmark = pytest.mark.anyio

# glibc's arenas besides the main one are heaps of 64 MiB reserved at 64 MiB-aligned addresses: the part in use is
# read-write, the rest has no access (HEAP_MAX_SIZE on 64-bit systems).
ARENA_HEAP = 64 * 1024 * 1024


def malloc_arenas(pid: int) -> int:
    """How many 64 MiB malloc heaps (arenas of threads) the process maps."""
    regions = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 5:
                continue  # a file or a named region ([heap], [stack]): not an arena
            start, end = (int(x, 16) for x in fields[0].split("-"))
            regions.append((start, end, fields[1]))
    arenas = 0
    for i, (start, end, perms) in enumerate(regions):
        if start % ARENA_HEAP or not perms.startswith("rw"):
            continue
        total = end - start
        if i + 1 < len(regions) and regions[i + 1][0] == end and regions[i + 1][2].startswith("---"):
            total += regions[i + 1][1] - regions[i + 1][0]
        if total == ARENA_HEAP:
            arenas += 1
    return arenas


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


async def test_a_childs_server_uses_one_malloc_arena(ws):
    async with ws.client() as root:
        sid = await sim_session(root, "Small child")
        tid = (await spawn(root, sid, "echo", create_worktree=False))["thread"]["id"]
        before = set(find_server_pids(ws.binary, ws.repo))
        async with ws.client("--role", "worker", "--thread-id", str(tid)) as child:
            # Reads and writes from the concurrency pool's threads, as an agent's calls come.
            for _ in range(60):
                await ok(child, "work.current_ref", {})
                await ok(child, "task.list", {"session_id": sid})
            pids = [p for p in find_server_pids(ws.binary, ws.repo) if p not in before]
            assert len(pids) == 1, pids
            pid = pids[0]
            assert thread_count(pid) > 2, "the child's server should run its calls on several threads"
            assert malloc_arenas(pid) == 0, open(f"/proc/{pid}/maps").read()
