"""runtime.bundle.info (docs/methods.md#orch_system--codestrator-runtime-mirror-and-planning): the binary, the programs it runs, and how it is installed for Codex and
Claude Code, read before and after `codestrator install` into a temporary HOME; and who may call it (docs/protocol-eras.md#roles).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from cs_harness import err, ok, open_session, session_id_of

FIELDS = [
    "feature", "server_version", "binary_path", "repo_path", "db_path", "schema_version", "role", "thread_id",
    "git", "tmux", "providers", "client_configs", "skills", "skills_root", "role_templates",
]
CONFIG_FIELDS = ["client", "scope", "path", "present", "registered", "command", "args", "matches_binary"]
SKILL_FIELDS = ["name", "client", "scope", "path", "installed", "version", "current"]
SKILLS = [
    "codestrator", "codestrator-worker", "codestrator-merge-reviewer", "codestrator-plan-architect",
    "codestrator-doc-mirror-manager",
]
ROLES = ["root", "worker", "merge-reviewer", "plan-architect", "doc-mirror-manager"]
SKILL_OF_ROLE = dict(zip(ROLES, SKILLS))

pytestmark = pytest.mark.anyio


def opt(value, kind) -> bool:
    return value is None or isinstance(value, kind)


def check_shape(info: dict, ws, role: str = "root", thread_id: int | None = None) -> None:
    """Every field the spec names, in its order, with its type."""
    assert list(info) == FIELDS, list(info)
    assert info["feature"] == "codestrator"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", info["server_version"]), info["server_version"]
    assert info["binary_path"] == os.path.realpath(ws.binary)
    assert info["repo_path"] == os.path.realpath(ws.repo)
    assert info["db_path"] == os.path.join(os.path.realpath(ws.repo), ".codestrator", "state.db")
    assert isinstance(info["schema_version"], int) and info["schema_version"] >= 1
    assert (info["role"], info["thread_id"]) == (role, thread_id)

    git = info["git"]
    assert list(git) == ["path", "version", "ok"], git
    assert os.path.isabs(git["path"]) and re.match(r"\d+\.\d+", git["version"]) and git["ok"] is True, git
    tmux = info["tmux"]
    assert list(tmux) == ["path", "version", "ok", "socket"], tmux
    assert os.path.isabs(tmux["path"]) and isinstance(tmux["version"], str) and tmux["ok"] is True, tmux
    assert tmux["socket"] == ws.tmux_socket, tmux

    providers = info["providers"]
    assert [p["provider"] for p in providers] == ["codex", "claude_code", "generic", "sim"], providers
    for p in providers:
        assert list(p) == ["provider", "executable", "found", "version"], p
        assert opt(p["executable"], str) and opt(p["found"], bool) and opt(p["version"], str), p
    codex, claude, generic, sim = providers
    assert isinstance(codex["found"], bool) and isinstance(claude["found"], bool)
    assert generic == {"provider": "generic", "executable": None, "found": None, "version": None}
    assert sim == {"provider": "sim", "executable": info["binary_path"], "found": True,
                   "version": info["server_version"]}

    configs = info["client_configs"]
    assert [(c["client"], c["scope"]) for c in configs] == [
        ("codex", "project"), ("claude", "project"), ("codex", "user"), ("claude", "user")], configs
    for c in configs:
        assert list(c) == CONFIG_FIELDS, c
        assert os.path.isabs(c["path"]), c
        assert all(isinstance(c[k], bool) for k in ("present", "registered", "matches_binary")), c
        assert opt(c["command"], str), c
        assert c["args"] is None or (isinstance(c["args"], list) and all(isinstance(a, str) for a in c["args"])), c

    skills = info["skills"]
    assert len(skills) == 4 * len(SKILLS)
    assert [s["name"] for s in skills[:5]] == SKILLS
    for s in skills:
        assert list(s) == SKILL_FIELDS, s
        assert s["name"] in SKILLS and s["client"] in ("codex", "claude") and s["scope"] in ("project", "user"), s
        assert s["path"].endswith(f"/{s['name']}/SKILL.md"), s
        assert isinstance(s["installed"], bool) and isinstance(s["current"], bool) and opt(s["version"], str), s

    assert opt(info["skills_root"], str)
    assert list(info["role_templates"]) == ROLES, info["role_templates"]
    assert all(opt(v, str) for v in info["role_templates"].values())


def by_place(items: list[dict]) -> dict[tuple[str, str], dict]:
    return {(i["client"], i["scope"]): i for i in items}


def skills_at(info: dict, client: str, scope: str) -> list[dict]:
    return [s for s in info["skills"] if (s["client"], s["scope"]) == (client, scope)]


def install(ws, env: dict[str, str], *args: str) -> None:
    r = subprocess.run(
        [ws.binary, "install", *args], cwd=ws.repo, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr


async def test_bundle_info_flips_with_install(ws, tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    env = ws.server_env()  # the server's environment: this HOME, no CODEX_HOME
    repo = Path(os.path.realpath(ws.repo))
    async with ws.client() as c:
        started = time.monotonic()
        before = await ok(c, "runtime.bundle.info")
        assert time.monotonic() - started < 5, "runtime.bundle.info must be as fast as a normal call"
        check_shape(before, ws)
        assert "warnings" not in before, before
        assert not (repo / ".codestrator" / "install").exists()
        configs = by_place(before["client_configs"])
        assert configs[("codex", "project")]["path"] == str(repo / ".codex/config.toml")
        assert configs[("claude", "project")]["path"] == str(repo / ".mcp.json")
        assert configs[("codex", "user")]["path"] == str(home / ".codex/config.toml")
        assert configs[("claude", "user")]["path"] == str(home / ".claude.json")
        for cfg in before["client_configs"]:
            assert (cfg["present"], cfg["registered"], cfg["command"], cfg["args"], cfg["matches_binary"]) == (
                False, False, None, None, False), cfg
        for s in before["skills"]:
            assert (s["installed"], s["version"], s["current"]) == (False, None, False), s
        assert before["skills_root"] is None
        assert before["role_templates"] == {r: None for r in ROLES}

        # Project scope for both clients, user scope for Codex; Claude Code's user registration is
        # `claude mcp add`'s ~/.claude.json, written here as it would.
        install(ws, env)
        install(ws, env, "--scope", "user", "--client", "codex")
        (home / ".claude.json").write_text(json.dumps(
            {"numStartups": 1, "mcpServers": {"codestrator": {"type": "stdio", "command": ws.binary,
                                                              "args": ["serve"]}}}))
        after = await ok(c, "runtime.bundle.info")
        check_shape(after, ws)
        configs = by_place(after["client_configs"])
        for place, args in (
            (("codex", "project"), ["serve", "--repo", str(repo)]),
            (("claude", "project"), ["serve", "--repo", str(repo)]),
            (("codex", "user"), ["serve"]),
            (("claude", "user"), ["serve"]),
        ):
            cfg = configs[place]
            assert (cfg["present"], cfg["registered"], cfg["matches_binary"]) == (True, True, True), cfg
            assert os.path.realpath(cfg["command"]) == after["binary_path"] and cfg["args"] == args, cfg
        for place in (("codex", "project"), ("claude", "project"), ("codex", "user")):
            for s in skills_at(after, *place):
                assert (s["installed"], s["version"], s["current"]) == (True, after["server_version"], True), s
                assert os.path.isfile(s["path"]), s
        assert all(not s["installed"] for s in skills_at(after, "claude", "user"))
        skills_dir = repo / ".agents/skills"
        assert after["skills_root"] == str(skills_dir)
        assert after["role_templates"] == {r: str(skills_dir / SKILL_OF_ROLE[r] / "SKILL.md") for r in ROLES}

        # A skill edited by hand is installed but no longer current.
        worker = skills_dir / "codestrator-worker" / "SKILL.md"
        worker.write_text("# my own worker notes\n")
        edited = await ok(c, "runtime.bundle.info")
        flipped = [s for s in edited["skills"] if s["installed"] and not s["current"]]
        assert [s["path"] for s in flipped] == [str(worker)], flipped
        assert flipped[0]["version"] is None
        assert edited["role_templates"]["worker"] == str(worker)

        # Registered for another binary: still registered, no longer this one; the skills are current again.
        install(ws, env, "--binary", "/opt/elsewhere/codestrator")
        moved = await ok(c, "runtime.bundle.info")
        configs = by_place(moved["client_configs"])
        for place in (("codex", "project"), ("claude", "project")):
            cfg = configs[place]
            assert (cfg["registered"], cfg["command"], cfg["matches_binary"]) == (
                True, "/opt/elsewhere/codestrator", False), cfg
        assert configs[("codex", "user")]["matches_binary"] is True
        assert all(s["current"] for s in skills_at(moved, "codex", "project"))

        # Uninstalled: back to nothing.
        install(ws, env, "--uninstall")
        install(ws, env, "--scope", "user", "--client", "codex", "--uninstall")
        (home / ".claude.json").unlink()
        gone = await ok(c, "runtime.bundle.info")
        check_shape(gone, ws)
        assert [(x["present"], x["registered"], x["matches_binary"]) for x in gone["client_configs"]] == [
            (False, False, False)] * 4, gone["client_configs"]
        assert not any(s["installed"] or s["current"] for s in gone["skills"])
        assert gone["skills_root"] is None and gone["role_templates"] == {r: None for r in ROLES}


async def test_bundle_info_follows_the_roles_table(ws, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Bundle roles"))
        threads = {}
        for role in ("worker", "merge-reviewer", "plan-architect", "doc-mirror-manager"):
            spawned = await ok(c, "thread.child.spawn", {
                "session_id": sid, "role": role, "provider": "sim", "create_worktree": False, "launch_codex": False})
            threads[role] = spawned["thread"]["id"]
        root_info = await ok(c, "runtime.bundle.info")
        check_shape(root_info, ws)

    for role, tid in threads.items():
        async with ws.client("--role", role, "--thread-id", str(tid)) as child:
            tools = [t.name for t in (await child.list_tools()).tools]
            if role in ("plan-architect", "doc-mirror-manager"):
                assert "orch_system" in tools, tools
                info = await ok(child, "runtime.bundle.info")
                check_shape(info, ws, role=role, thread_id=tid)
                info = await ok(child, "runtime.bundle.info", tool="orchestrator_call")
                assert info["role"] == role
                continue
            assert "orch_system" not in tools, tools
            for tool in ("orchestrator_call", "orch_system"):
                e = await err(child, "runtime.bundle.info", tool=tool)
                assert e["code"] == "forbidden", e
                assert e["message"].startswith(f"runtime.bundle.info: not allowed for role {role}; expected "), e
