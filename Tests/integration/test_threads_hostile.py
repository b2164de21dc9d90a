"""Text sent to a child's pane arrives byte-exact and is never interpreted by a shell (docs/protocol-eras.md#parameter-decoding rules 8 and
11; docs/runtime-guide.md#directive-delivery, docs/sim-agent.md "Input"). The sim agent records every submitted input in its inputs log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cs_harness import ok
from threads_support import pwned_files, screen, sim_session, sim_texts, spawn, wait_until

pytestmark = pytest.mark.anyio

UNICODE = "ünïcødé — 日本語 — 🚀 emoji — שלום — e\u0301 combining — \u00a0nbsp"
HOSTILE = [
    "quote'd \"double\" \\backslash\\ 'single' \"unbalanced",
    "$(touch pwned)",
    "`touch pwned`",
    "a; touch pwned; b && touch pwned || touch pwned | cat > pwned & echo",
    "line1\nline2\n\nline4 after a blank line",
    UNICODE,
    "col1\tcol2\t\ttabbed",
    "#{pane_id} #S #(touch pwned) %1 ## ${HOME} ${thread_id} $PATH ~ *",
    "-n --flag-looking text",
    "  leading and trailing spaces  ",
    "ends with a newline\n",
]


def _big() -> str:
    """~50 KB of mixed hostile lines (under the 65,536-byte directive limit)."""
    line = "$(touch pwned) `touch pwned` ; 'q' \"qq\" " + UNICODE + "\ttab\n"
    out = []
    n = 0
    while sum(len(s.encode()) for s in out) < 50 * 1024:
        out.append(f"{n:05d} {line}")
        n += 1
    return "".join(out).rstrip("\n") + " end"


BIG = _big()
PROMPT = "Initial prompt: " + " | ".join(HOSTILE[:4]) + "\n" + UNICODE + "\nlast line $(touch pwned)"


async def test_hostile_prompt_and_directives_arrive_byte_exact(ws):
    assert 45 * 1024 <= len(BIG.encode()) <= 60 * 1024, len(BIG.encode())
    home = Path(os.environ.get("HOME", "/nonexistent"))
    watched = [ws.tmp, Path.cwd(), home]
    assert pwned_files([ws.tmp]) == [], "a pwned file exists before the test"
    before = {str(p / "pwned") for p in watched if (p / "pwned").exists()}

    async with ws.client() as c:
        sid = await sim_session(c, "Hostile panes")
        sp = await spawn(c, sid, "echo", title="Hostile echo", initial_prompt=PROMPT)
        t = sp["thread"]
        tid, pane = t["id"], t["tmux_pane_id"]
        await wait_until("the prompt in the inputs log", lambda: sim_texts(ws, tid), timeout=10,
                         detail=lambda: screen(ws, pane))
        first = sim_texts(ws, tid)
        assert len(first) == 1, f"the prompt arrived as {len(first)} inputs: {[x[:60] for x in first]}"
        assert PROMPT in first[0], f"initial_prompt not verbatim in the pasted prompt: {first[0][-600:]!r}"
        assert first[0].startswith(f"# Codestrator assignment: thread {tid} (worker) in session {sid}\n"), first[0][:200]

        sent = []
        for text in HOSTILE + [BIG]:
            d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "queue", "directive": text})
            assert d["directive"] == text, f"directive echoed back changed: {d['directive'][:200]!r}"
            assert d["delivery_error"] is None, d
            sent.append(text)

            async def recorded():
                # An observation delivers a directive that was queued because the echo was still busy.
                if len(sim_texts(ws, tid)) < 1 + len(sent):
                    await ok(c, "thread.child.list", {"session_id": sid})
                return len(sim_texts(ws, tid)) >= 1 + len(sent)

            await wait_until(
                f"directive {len(sent)} recorded",
                recorded,
                timeout=15,
                detail=lambda: f"{[x[:60] for x in sim_texts(ws, tid)]}\n{screen(ws, pane, 20)}",
            )
        got = sim_texts(ws, tid)[1:]
        assert len(got) == len(sent), f"{len(got)} inputs recorded for {len(sent)} directives"
        for i, (want, have) in enumerate(zip(sent, got)):
            assert have == want, f"directive {i + 1} changed in transit:\n sent {want[:300]!r}\n got  {have[:300]!r}"

        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["status"] in ("idle", "running") and st["delivery_error"] is None, st

    assert pwned_files([ws.tmp]) == [], f"a shell ran: {pwned_files([ws.tmp])}"
    for p in watched:
        assert str(p / "pwned") in before or not (p / "pwned").exists(), f"{p / 'pwned'} appeared"
