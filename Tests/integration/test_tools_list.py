"""tools/list: the ten tools, their schemas, hints and generated descriptions (docs/protocol-eras.md#tools)."""

from __future__ import annotations

import re

import pytest

from spec_methods import DESTRUCTIVE_TOOLS, METHODS, TOOLS, methods_of

pytestmark = pytest.mark.anyio

LEGACY_SENTENCE = "Legacy entry point: calls any Codestrator method by name; prefer the orch_* tools."


def _plain(s: str) -> str:
    """Summaries in methods.md use Markdown code spans; compare without the backticks."""
    return s.replace("`", "")


async def test_tools_list_shape(ws):
    async with ws.client() as c:
        listed = (await c.list_tools()).tools

    names = [t.name for t in listed]
    assert names == TOOLS, f"tools/list names/order: {names}"

    problems: list[str] = []
    for t in listed:
        schema = t.input_schema
        props = schema.get("properties") or {}
        method_prop = props.get("method") or {}
        enum = method_prop.get("enum")
        if schema.get("type") != "object":
            problems.append(f"{t.name}: inputSchema.type {schema.get('type')!r}")
        if method_prop.get("type") != "string":
            problems.append(f"{t.name}: properties.method {method_prop!r}")
        if not (isinstance(enum, list) and enum):
            problems.append(f"{t.name}: properties.method.enum is {enum!r}")
        elif enum != methods_of(t.name):
            problems.append(f"{t.name}: method enum {enum} != registry order {methods_of(t.name)}")
        if (props.get("params") or {}).get("type") != "object":
            problems.append(f"{t.name}: properties.params {props.get('params')!r}")
        if schema.get("required") != ["method"]:
            problems.append(f"{t.name}: required {schema.get('required')!r}")
        if schema.get("additionalProperties") is not False:
            problems.append(f"{t.name}: additionalProperties {schema.get('additionalProperties')!r}")
        if t.output_schema != {"type": "object"}:
            problems.append(f"{t.name}: outputSchema {t.output_schema!r}")
        if t.annotations is None:
            problems.append(f"{t.name}: no annotations")
        elif t.annotations.destructive_hint is not (t.name in DESTRUCTIVE_TOOLS):
            problems.append(
                f"{t.name}: destructiveHint {t.annotations.destructive_hint!r}, expected {t.name in DESTRUCTIVE_TOOLS}"
            )

    by_name = {t.name: t for t in listed}
    all_methods = {m for (m, *_rest) in METHODS}
    all_enum = by_name["orchestrator_call"].input_schema["properties"]["method"]["enum"]
    if len(all_enum) != 69 or set(all_enum) != all_methods:
        problems.append(
            f"orchestrator_call enum has {len(all_enum)} methods; missing {sorted(all_methods - set(all_enum))}, "
            f"extra {sorted(set(all_enum) - all_methods)}"
        )
    if LEGACY_SENTENCE not in (by_name["orchestrator_call"].description or ""):
        problems.append(f"orchestrator_call description: {by_name['orchestrator_call'].description!r}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


async def test_tool_descriptions_list_each_method(ws):
    async with ws.client() as c:
        listed = {t.name: t for t in (await c.list_tools()).tools}

    problems = []
    for tool in TOOLS[:-1]:
        desc = listed[tool].description or ""
        lines = [ln for ln in desc.split("\n") if ln.startswith("- ")]
        named = [ln[2:].split(" — ", 1)[0] for ln in lines]
        if named != methods_of(tool):
            problems.append(f"{tool}: method lines name {named}, expected {methods_of(tool)}")
            continue
        for (method, m_tool, summary, ro) in METHODS:
            if m_tool != tool:
                continue
            line = _plain(next(ln for ln in lines if ln[2:].split(" — ", 1)[0] == method))
            m = re.fullmatch(
                re.escape(f"- {method} — {_plain(summary)}") + r"\.?(?P<ro> \(read-only\))?\.?", line
            )
            if not m:
                problems.append(f"{tool}: line {line!r} is not '- {method} — {_plain(summary)}'")
                continue
            if ro == "yes" and not m.group("ro"):
                problems.append(f"{tool}: {method} is read-only but its line lacks ' (read-only)': {line!r}")
            # `obs` (may persist observed status) and `yes*` (read-only without `set`) are left open.
            if ro == "no" and m.group("ro"):
                problems.append(f"{tool}: {method} is not read-only but its line says so: {line!r}")
    assert not problems, "\n".join(problems)
