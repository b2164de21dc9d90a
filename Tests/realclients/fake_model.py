"""A scripted model for the real Codex CLI and Claude Code, on 127.0.0.1 (port 0).

It speaks the two wire protocols the pinned clients use: the Responses API (`POST /v1/responses`, server-sent
events) for Codex and the Messages API (`POST /v1/messages`, server-sent events) for Claude Code. What it answers
is decided by rules: each rule matches the text of the conversation's latest real user message (a prompt or a
pasted directive), and holds a list of steps. The step to play is the number of tool results that followed that
message, so the answer depends only on the request: deterministic, and the same for both clients.

A step is one of:
- `say(text)`: a final assistant message; the turn ends.
- `mcp(tool, method, params)`: a call of a Codestrator tool (`orch_task`, ...). Claude Code defers MCP tools behind
  ToolSearch, so the first MCP call of a conversation is preceded by a ToolSearch that loads them all.
- `shell(cmd)`: a shell command (Codex `exec_command`, Claude `Bash`).
Each argument may be a callable taking the `Turn` (the prompt, the tool results so far) so a step can use ids
that an earlier result or the prompt named. Any step may carry `delay=seconds`: the stream opens at once and the
rest follows after the delay, so the client shows its busy screen meanwhile.

Every request is logged (`ModelServer.log`) with the client, the prompt, the step played and the time.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

ORCH_TOOLS = [
    "orch_session", "orch_task", "orch_graph", "orch_workspace", "orch_thread", "orch_lifecycle", "orch_merge",
    "orch_inbox", "orch_system",
]


@dataclass
class Step:
    kind: str  # say | mcp | shell
    payload: dict[str, Any]
    delay: float = 0.0


def say(text: str | Callable[["Turn"], str], delay: float = 0.0) -> Step:
    return Step("say", {"text": text}, delay)


def mcp(tool: str, method: str, params: dict | Callable[["Turn"], dict] | None = None, delay: float = 0.0) -> Step:
    return Step("mcp", {"tool": tool, "method": method, "params": params or {}}, delay)


def shell(cmd: str | Callable[["Turn"], str], delay: float = 0.0) -> Step:
    return Step("shell", {"cmd": cmd}, delay)


def tool(name: str, args: dict, delay: float = 0.0) -> Step:
    """A call of one of the client's own tools by name (Claude's `Write`, say)."""
    return Step("tool", {"name": name, "args": args}, delay)


@dataclass
class Turn:
    """What a step may read: the latest user message and the tool results that followed it."""

    client: str
    prompt: str
    results: list[str]
    conversation: str

    def find(self, pattern: str, text: str | None = None, group: int = 1) -> str:
        m = re.search(pattern, self.prompt if text is None else text)
        if not m:
            raise LookupError(f"pattern {pattern!r} not found in {(self.prompt if text is None else text)[:300]!r}")
        return m.group(group)

    def last_json(self) -> Any:
        """The structured result of the last tool call (the JSON text Codestrator returns)."""
        text = self.results[-1]
        try:
            return json.loads(text)
        except ValueError:
            start = text.find("{")
            return json.loads(text[start:]) if start >= 0 else None


@dataclass
class Rule:
    match: str
    steps: list[Step]


@dataclass
class LogEntry:
    at: float
    client: str
    prompt: str
    step: int
    action: str
    tool_results: int
    has_tools: bool
    ended: float = 0.0


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    out = []
    for block in content or []:
        if isinstance(block, dict):
            if block.get("type") in ("text", "input_text", "output_text"):
                out.append(block.get("text", ""))
            elif block.get("type") == "tool_result":
                out.append(_text_of(block.get("content")))
    return "\n".join(out)


def _is_reminder(text: str) -> bool:
    t = text.strip()
    return t.startswith("<system-reminder>") or t.startswith("<environment_context>") or t.startswith(
        "<user_instructions>") or t.startswith("# AGENTS.md")


class ModelServer:
    """The scripted model; `start()` serves it on a thread, `url` is its base address."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.log: list[LogEntry] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.default = [say("ok")]
        self.httpd: http.server.ThreadingHTTPServer | None = None

    # Scripting ----------------------------------------------------------------------------------------------
    def on(self, match: str, *steps: Step) -> None:
        """Adds a rule: a latest user message containing `match` (a regular expression) plays `steps`."""
        with self.lock:
            self.rules.insert(0, Rule(match, list(steps)))

    def prompts(self, pattern: str = "") -> list[LogEntry]:
        """Turn starts (step 0 of a user message) whose prompt matches `pattern`. Requests without tools (Codex
        asks the model for a title of each new conversation) are not turns."""
        with self.lock:
            return [e for e in self.log if e.has_tools and e.step == 0 and e.tool_results == 0 and re.search(pattern, e.prompt)]

    def wait_for(self, pred: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; model log: {self.summary()}")

    def tool_outputs(self) -> list[str]:
        """Every tool result the clients sent back, in order (the output of shell commands among them)."""
        out: list[str] = []
        with self.lock:
            for r in self.requests:
                body = r["body"]
                for it in body.get("input") or []:
                    if it.get("type") == "function_call_output":
                        out.append(_codex_output_text(it.get("output")))
                for m in body.get("messages") or []:
                    if m.get("role") == "user" and isinstance(m.get("content"), list):
                        out.extend(_text_of(b.get("content")) for b in m["content"] if b.get("type") == "tool_result")
        seen: list[str] = []
        for o in out:
            if o not in seen:
                seen.append(o)
        return seen

    def summary(self) -> str:
        with self.lock:
            return "\n".join(f"{e.client} step {e.step}: {e.action} <- {e.prompt[:80]!r}" for e in self.log[-30:])

    # Serving ------------------------------------------------------------------------------------------------
    def start(self) -> "ModelServer":
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                if self.path.startswith("/v1/responses"):
                    server._answer_codex(self, body)
                elif self.path.startswith("/v1/messages"):
                    server._answer_claude(self, body)
                else:
                    self.send_error(404)

            def do_GET(self) -> None:  # noqa: N802
                self.send_error(404)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self.httpd
        return self.httpd.server_address[1]

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    # Choosing a step ----------------------------------------------------------------------------------------
    def _choose(self, client: str, prompt: str, results: list[str], conversation: str, has_tools: bool,
                replies: int | None = None) -> Step:
        """`replies`: every tool result since the prompt, ToolSearch's included (a turn starts at 0)."""
        step_index = len(results)
        steps = self.default
        if has_tools:
            with self.lock:
                for r in self.rules:
                    if re.search(r.match, prompt):
                        steps = r.steps
                        break
        else:
            steps = [say("ok")]
        step = steps[step_index] if step_index < len(steps) else say("done")
        with self.lock:
            self.log.append(LogEntry(time.time(), client, prompt, step_index, step.kind + ":" + json.dumps(
                {k: (v if not callable(v) else "<fn>") for k, v in step.payload.items()})[:200],
                len(results) if replies is None else replies, has_tools))
        return step

    @staticmethod
    def _resolve(value: Any, turn: Turn) -> Any:
        return value(turn) if callable(value) else value

    # Codex: Responses API ------------------------------------------------------------------------------------
    def _answer_codex(self, h: http.server.BaseHTTPRequestHandler, body: dict) -> None:
        items = body.get("input") or []
        last_user = -1
        for i, it in enumerate(items):
            if it.get("type") == "message" and it.get("role") == "user":
                text = _text_of(it.get("content"))
                if not _is_reminder(text):
                    last_user = i
        prompt = _text_of(items[last_user].get("content")) if last_user >= 0 else ""
        results = [
            _codex_output_text(it.get("output")) for it in items[last_user + 1:]
            if it.get("type") == "function_call_output"
        ]
        conversation = "\n".join(_text_of(it.get("content")) for it in items if it.get("type") == "message")
        with self.lock:
            self.requests.append({"client": "codex", "body": body})
        step = self._choose("codex", prompt, results, conversation, bool(body.get("tools")))
        entry = self.log[-1]
        turn = Turn("codex", prompt, results, conversation)
        sse = _SSE(h)
        rid = "resp_" + uuid.uuid4().hex[:12]
        sse.event("response.created", {"response": {"id": rid}})
        if step.delay:
            time.sleep(step.delay)
        if step.kind == "say":
            item = {"type": "message", "role": "assistant", "id": "msg_" + uuid.uuid4().hex[:8],
                    "content": [{"type": "output_text", "text": self._resolve(step.payload["text"], turn)}]}
        elif step.kind == "mcp":
            args = {"method": step.payload["method"], "params": self._resolve(step.payload["params"], turn)}
            item = {"type": "function_call", "namespace": "mcp__codestrator", "name": step.payload["tool"],
                    "arguments": json.dumps(args), "call_id": "call_" + uuid.uuid4().hex[:12]}
        elif step.kind == "tool":
            item = {"type": "function_call", "name": step.payload["name"],
                    "arguments": json.dumps(self._resolve(step.payload["args"], turn)),
                    "call_id": "call_" + uuid.uuid4().hex[:12]}
        else:
            item = {"type": "function_call", "name": "exec_command",
                    "arguments": json.dumps({"cmd": self._resolve(step.payload["cmd"], turn)}),
                    "call_id": "call_" + uuid.uuid4().hex[:12]}
        sse.event("response.output_item.done", {"item": item, "output_index": 0})
        sse.event("response.completed", {"response": {"id": rid, "usage": {
            "input_tokens": 10, "output_tokens": 10, "total_tokens": 20,
            "input_tokens_details": None, "output_tokens_details": None}}})
        sse.end()
        entry.ended = time.time()

    # Claude Code: Messages API -------------------------------------------------------------------------------
    def _answer_claude(self, h: http.server.BaseHTTPRequestHandler, body: dict) -> None:
        messages = body.get("messages") or []
        names: dict[str, str] = {}
        last_user = -1
        for i, m in enumerate(messages):
            content = m.get("content")
            if m.get("role") == "assistant" and isinstance(content, list):
                for b in content:
                    if b.get("type") == "tool_use":
                        names[b.get("id")] = b.get("name")
            if m.get("role") == "user":
                blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
                texts = [b.get("text", "") for b in blocks if b.get("type") == "text" and not _is_reminder(
                    b.get("text", ""))]
                if texts and not any(b.get("type") == "tool_result" for b in blocks):
                    last_user = i
        prompt = ""
        if last_user >= 0:
            content = messages[last_user]["content"]
            blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
            prompt = "\n".join(b.get("text", "") for b in blocks if b.get("type") == "text" and not _is_reminder(
                b.get("text", "")))
        results: list[str] = []
        replies = 0
        for m in messages[last_user + 1:] if last_user >= 0 else []:
            if m.get("role") == "user" and isinstance(m.get("content"), list):
                for b in m["content"]:
                    if b.get("type") == "tool_result":
                        replies += 1
                        if names.get(b.get("tool_use_id")) == "ToolSearch":
                            continue
                        results.append(_text_of(b.get("content")))
        tools = body.get("tools") or []
        tool_names = {t.get("name") for t in tools}
        loaded = "mcp__codestrator__orch_task" in tool_names or any(
            n == "ToolSearch" for n in names.values())
        conversation = "\n".join(_text_of(m.get("content")) for m in messages)
        with self.lock:
            self.requests.append({"client": "claude", "body": body})
        step = self._choose("claude", prompt, results, conversation, bool(tools), replies)
        entry = self.log[-1]
        turn = Turn("claude", prompt, results, conversation)
        sse = _SSE(h)
        mid = "msg_" + uuid.uuid4().hex[:12]
        sse.event("message_start", {"message": {
            "id": mid, "type": "message", "role": "assistant", "model": body.get("model", "fake"), "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}})
        if step.delay:
            time.sleep(step.delay)
        if step.kind == "mcp" and not loaded:
            select = ",".join("mcp__codestrator__" + t for t in ORCH_TOOLS)
            _claude_tool_use(sse, "ToolSearch", {"query": "select:" + select, "max_results": 10})
        elif step.kind == "say":
            sse.event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            sse.event("content_block_delta", {"index": 0, "delta": {
                "type": "text_delta", "text": self._resolve(step.payload["text"], turn)}})
            sse.event("content_block_stop", {"index": 0})
            sse.event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                        "usage": {"output_tokens": 5}})
        elif step.kind == "mcp":
            args = {"method": step.payload["method"], "params": self._resolve(step.payload["params"], turn)}
            _claude_tool_use(sse, "mcp__codestrator__" + step.payload["tool"], args)
        elif step.kind == "tool":
            _claude_tool_use(sse, step.payload["name"], self._resolve(step.payload["args"], turn))
        else:
            _claude_tool_use(sse, "Bash", {"command": self._resolve(step.payload["cmd"], turn),
                                           "description": "Run a command"})
        sse.event("message_stop", {})
        sse.end()
        entry.ended = time.time()


def _claude_tool_use(sse: "_SSE", name: str, args: dict) -> None:
    sse.event("content_block_start", {"index": 0, "content_block": {
        "type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:16], "name": name, "input": {}}})
    sse.event("content_block_delta", {"index": 0, "delta": {"type": "input_json_delta",
                                                            "partial_json": json.dumps(args)}})
    sse.event("content_block_stop", {"index": 0})
    sse.event("message_delta", {"delta": {"stop_reason": "tool_use", "stop_sequence": None},
                                "usage": {"output_tokens": 5}})


def _codex_output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        return _text_of(output.get("content")) or json.dumps(output)
    if isinstance(output, list):
        return _text_of(output)
    return json.dumps(output)


class _SSE:
    """A server-sent event stream over a chunked HTTP/1.1 response."""

    def __init__(self, h: http.server.BaseHTTPRequestHandler) -> None:
        self.h = h
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

    def _chunk(self, data: bytes) -> None:
        try:
            self.h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def event(self, name: str, data: dict) -> None:
        data = dict(data)
        data["type"] = name
        self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    def end(self) -> None:
        self._chunk(b"")
