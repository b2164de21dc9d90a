"""Scripted model behaviour shared by the scenarios: what a child of either client does with its assignment."""

from __future__ import annotations

import json
import re

from fake_model import ModelServer, Turn, mcp, say, shell

ASSIGNMENT = r"Codestrator assignment: thread \d+ \(worker\)"


def case_id(t: Turn) -> int:
    return int(t.find(r"- case (\d+):"))


def step_title(t: Turn, n: int) -> str:
    return t.find(rf"(?m)^\s+{n}\. (.+)$")


def commit(n: int, client: str) -> str:
    """Claude Code commits its work; a Codex worker only edits (its sandbox keeps git's folder read-only, and
    step.check commits for it, as its assignment says)."""
    write = f"printf 'work of step {n}\\n' > step{n}.txt"
    if client == "codex":
        return write
    return f"{write} && git add step{n}.txt && git commit -q -m 'step {n}' && git log --oneline -1"


def worker_completes_case(model: ModelServer, match: str = ASSIGNMENT, delay: float = 0.0) -> None:
    """case.begin, a commit and step.check twice, case.complete, work.report, then a final answer."""
    model.on(
        match,
        mcp("orch_task", "case.begin", lambda t: {"case_id": case_id(t)}, delay=delay),
        shell(lambda t: commit(1, t.client)),
        mcp("orch_task", "step.check", lambda t: {"case_id": case_id(t), "step_title": step_title(t, 1),
                                                  "status": "done", "result": "first file committed"}),
        shell(lambda t: commit(2, t.client)),
        mcp("orch_task", "step.check", lambda t: {"case_id": case_id(t), "step_title": step_title(t, 2),
                                                  "status": "done", "result": "second file committed"}),
        mcp("orch_task", "case.complete", lambda t: {"case_id": case_id(t), "summary": "both steps done"}),
        mcp("orch_lifecycle", "work.report", lambda t: {"outcome": "done", "summary": "case complete",
                                                        "case_id": case_id(t)}),
        say("Case complete: two files committed."),
    )
