"""`codestrator install`, `doctor` and the agent hooks (docs/install.md#install-command, docs/install.md#compaction-hook, docs/install.md#doctor; docs/runtime-guide.md#status-detection).

Hermetic: HOME, CODEX_HOME and every repository live in pytest's tmp_path; the session tests use a private
tmux socket that is killed afterwards.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
import tomllib
import uuid
from pathlib import Path

import pytest

from cs_harness import make_repo


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith("CODESTRATOR_") and k != "CODEX_HOME"}
    e["HOME"] = str(home)
    e["CODESTRATOR_TMUX_SOCKET"] = f"cs-install-test-{uuid.uuid4().hex[:8]}"
    e["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # no claude/codex from the developer's machine
    yield e
    subprocess.run(["tmux", "-L", e["CODESTRATOR_TMUX_SOCKET"], "kill-server"], capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def cs(binary: str, env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None):
    return subprocess.run(
        [binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, input=stdin
    )


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file outside .git: bytes, inode, mtime."""
    out = {}
    for p in sorted(root.rglob("*")):
        if ".git" in p.relative_to(root).parts[:1] or not p.is_file():
            continue
        st = p.stat()
        out[str(p.relative_to(root))] = (p.read_bytes(), st.st_ino, st.st_mtime_ns)
    return out


def mcp_roundtrip(command: str, args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """Starts the registered server, sends initialize and tools/list, returns the tool names."""
    msgs = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "install-test", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    proc = subprocess.run(
        [command, *args], cwd=cwd, env=env, input="".join(json.dumps(m) + "\n" for m in msgs),
        capture_output=True, text=True, timeout=30,
    )
    replies = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines()) if "id" in r}
    assert replies[1]["result"]["serverInfo"]["name"], replies[1]
    return [t["name"] for t in replies[2]["result"]["tools"]]


def test_install_registers_a_server_that_answers(binary, env, repo):
    r = cs(binary, env, repo, "install")
    assert r.returncode == 0, r.stderr + r.stdout
    config = tomllib.loads((repo / ".codex/config.toml").read_text())
    table = config["mcp_servers"]["codestrator"]
    assert table["tool_timeout_sec"] >= 660
    assert table["args"] == ["serve", "--repo", str(repo.resolve())]
    assert "orch_session" in mcp_roundtrip(table["command"], table["args"], repo, env)

    mcp = json.loads((repo / ".mcp.json").read_text())["mcpServers"]["codestrator"]
    assert mcp["type"] == "stdio"
    assert "orch_task" in mcp_roundtrip(mcp["command"], mcp["args"], repo, env)

    for hooks_file in (repo / ".codex/hooks.json", repo / ".claude/settings.json"):
        entry = json.loads(hooks_file.read_text())["hooks"]["SessionStart"][0]
        assert entry["matcher"] == "compact|resume"
        assert entry["hooks"][0]["command"].endswith(" hook session-start")
    for skills in (repo / ".agents/skills", repo / ".claude/skills"):
        names = sorted(p.name for p in skills.iterdir())
        assert names == ["codestrator", "codestrator-doc-mirror-manager", "codestrator-merge-reviewer",
                         "codestrator-plan-architect", "codestrator-worker"]
        for n in names:
            text = (skills / n / "SKILL.md").read_text()
            assert text.startswith(f"---\nname: {n}\n")
            assert (skills / n / "references/methods.md").read_text().startswith("# Codestrator")
    assert "<!-- BEGIN codestrator" in (repo / "AGENTS.md").read_text()
    assert "<!-- BEGIN codestrator" in (repo / "CLAUDE.md").read_text()
    manifest = json.loads((repo / ".codestrator/install/manifest.json").read_text())
    assert len(manifest["files"]) == 26
    assert "/.codestrator/" in (repo / ".git/info/exclude").read_text()


def test_install_twice_touches_nothing(binary, env, repo):
    assert cs(binary, env, repo, "install").returncode == 0
    before = snapshot(repo)
    time.sleep(0.02)
    r = cs(binary, env, repo, "install")
    assert r.returncode == 0
    assert "up to date" in r.stdout
    assert snapshot(repo) == before


def test_uninstall_restores_pre_existing_files_byte_for_byte(binary, env, repo):
    originals = {
        "AGENTS.md": b"# Agents\r\nKeep CRLF and no final newline",
        "CLAUDE.md": b"# Claude\n\nHouse rules.\n",
        ".codex/config.toml": b'model = "o3"  # comment\n\n[mcp_servers.other]\ncommand = "other"\nargs = []\n',
        ".mcp.json": b'{\n    "mcpServers": {"other": {"command": "x"}},\n    "z": [1, 2]\n}\n',
        ".claude/settings.json": b'{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo hi"}]}]}}',
        ".codex/hooks.json": b'{"hooks": {"SessionStart": [{"matcher": "startup", "hooks": []}]}}\n',
    }
    for rel, data in originals.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(data)
    r = cs(binary, env, repo, "install")
    assert r.returncode == 0, r.stdout + r.stderr
    mcp = json.loads((repo / ".mcp.json").read_text())
    assert list(mcp) == ["mcpServers", "z"] and list(mcp["mcpServers"]) == ["other", "codestrator"]
    hooks = json.loads((repo / ".codex/hooks.json").read_text())["hooks"]["SessionStart"]
    assert [h["matcher"] for h in hooks] == ["startup", "compact|resume"]
    assert tomllib.loads((repo / ".codex/config.toml").read_text())["mcp_servers"]["other"]["command"] == "other"

    r = cs(binary, env, repo, "install", "--uninstall")
    assert r.returncode == 0, r.stdout + r.stderr
    for rel, data in originals.items():
        assert (repo / rel).read_bytes() == data, rel
    left = {str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert left == set(originals) | {"README.md"}


def test_uninstall_keeps_user_edits(binary, env, repo):
    assert cs(binary, env, repo, "install", "--client", "claude").returncode == 0
    data = json.loads((repo / ".mcp.json").read_text())
    data["mcpServers"]["mine"] = {"command": "mine"}
    (repo / ".mcp.json").write_text(json.dumps(data, indent=2) + "\n")
    skill = repo / ".claude/skills/codestrator/SKILL.md"
    skill.write_text(skill.read_text() + "\nMy note.\n")
    r = cs(binary, env, repo, "install", "--uninstall", "--client", "claude")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads((repo / ".mcp.json").read_text()) == {"mcpServers": {"mine": {"command": "mine"}}}
    assert "My note." in skill.read_text()
    assert "kept" in r.stdout
    assert not (repo / "CLAUDE.md").exists()


@pytest.mark.parametrize(
    "rel,content",
    [(".codex/config.toml", b"[mcp_servers\ncommand = 1\n"), (".mcp.json", b'{"mcpServers": {'),
     (".claude/settings.json", b"{hooks: []}")],
)
def test_a_config_that_does_not_parse_is_refused_and_left_alone(binary, env, repo, rel, content):
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_bytes(content)
    before = snapshot(repo)
    r = cs(binary, env, repo, "install")
    assert r.returncode == 1
    assert rel in r.stdout + r.stderr
    assert snapshot(repo) == before


def test_a_codestrator_entry_install_did_not_write_is_never_overwritten(binary, env, repo):
    (repo / ".codex").mkdir()
    (repo / ".codex/config.toml").write_text('[mcp_servers.codestrator]\ncommand = "mine"\n')
    before = snapshot(repo)
    r = cs(binary, env, repo, "install", "--client", "codex")
    assert r.returncode == 1 and "did not write" in r.stdout
    assert snapshot(repo) == before


def test_dry_run_prints_diffs_and_writes_nothing(binary, env, repo):
    before = snapshot(repo)
    r = cs(binary, env, repo, "install", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "+[mcp_servers.codestrator]" in r.stdout and "--- /dev/null" in r.stdout
    assert snapshot(repo) == before
    assert not (repo / ".codestrator").exists()


def test_user_scope_uses_home(binary, env, repo, tmp_path):
    r = cs(binary, env, tmp_path, "install", "--scope", "user", "--client", "codex")
    assert r.returncode == 0, r.stdout + r.stderr
    home = Path(env["HOME"])
    table = tomllib.loads((home / ".codex/config.toml").read_text())["mcp_servers"]["codestrator"]
    assert table["args"] == ["serve"]
    assert (home / ".agents/skills/codestrator-worker/SKILL.md").exists()
    assert (home / ".config/codestrator/install-manifest.json").exists()
    assert cs(binary, env, tmp_path, "install", "--scope", "user", "--uninstall").returncode == 0
    assert [p for p in home.rglob("*") if p.is_file()] == []


def test_project_scope_needs_a_repository(binary, env, tmp_path):
    r = cs(binary, env, tmp_path, "install")
    assert r.returncode == 1 and "not inside a git repository" in r.stderr


def open_session_with_a_case(binary, env, repo) -> int:
    def call(method, params):
        r = cs(binary, env, repo, "call", method, "--params", json.dumps(params))
        assert r.returncode == 0, r.stdout + r.stderr
        return json.loads(r.stdout)

    call("workspace.init", {})
    opened = call("session.open", {"user_request": "Add cart endpoints", "agent_role": "sim"})
    sid = opened["session_context"]["session"]["id"]
    epic = call("task.create", {"level": "epic", "title": "Shop", "session_id": sid})["id"]
    feat = call("task.create", {"level": "feature", "title": "Cart", "parent_id": epic})["id"]
    group = call("task.create", {"level": "testgroup", "title": "API", "parent_id": feat})["id"]
    case = call("task.create", {"level": "case", "title": "add item", "parent_id": group,
                                "steps": ["write test", "implement"]})["id"]
    call("case.begin", {"case_id": case, "session_id": sid})
    call("step.check", {"case_id": case, "step_title": "write test", "status": "done", "result": "red",
                        "session_id": sid})
    return sid


def test_hook_session_start_prints_the_next_unchecked_step(binary, env, repo, tmp_path):
    open_session_with_a_case(binary, env, repo)
    started = time.monotonic()
    r = cs(binary, env, repo, "hook", "session-start", stdin='{"source": "compact"}')
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - started < 1.0
    assert 'Next unchecked step: 2 "implement"' in r.stdout
    assert "add item" in r.stdout and "Open session" in r.stdout

    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    r = cs(binary, env, outside, "hook", "session-start")
    assert (r.returncode, r.stdout) == (0, "")
    bare = make_repo(tmp_path / "fresh")
    r = cs(binary, env, bare, "hook", "session-start")
    assert (r.returncode, r.stdout) == (0, "")
    assert not (bare / ".codestrator").exists()


def test_agent_hooks_record_thread_events(binary, env, repo, tmp_path):
    open_session_with_a_case(binary, env, repo)
    db = repo / ".codestrator/state.db"
    tid = sqlite3.connect(db).execute("SELECT root_thread_id FROM sessions").fetchone()[0]
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(
        json.dumps({"type": "user", "message": {"content": "hi"}}) + "\n"
        + json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": "all done"}]}}) + "\n")
    notify = json.dumps({"type": "agent-turn-complete", "last-assistant-message": "turn over"})
    runs = [
        ("codex-notify", "--thread-id", str(tid), notify),
        ("claude", "--event", "UserPromptSubmit", "--thread-id", str(tid)),
        ("claude", "--event", "Stop", "--thread-id", str(tid)),
        ("claude", "--event", "Notification", "--thread-id", str(tid)),
    ]
    stdins = [None, '{"prompt": "x"}', json.dumps({"transcript_path": str(transcript)}),
              json.dumps({"notification_type": "permission_prompt", "message": "Allow Bash?"})]
    for args, stdin in zip(runs, stdins):
        r = cs(binary, env, repo, "hook", *args, stdin=stdin)
        assert r.returncode == 0 and r.stderr == "", (args, r.stderr)
    rows = sqlite3.connect(db).execute(
        "SELECT source, event, provider_status, message FROM thread_events WHERE thread_id = ? ORDER BY id",
        (tid,)).fetchall()
    assert rows[-4:] == [
        ("codex-notify", "turn_complete", "idle", "turn over"),
        ("claude-hook", "prompt_submit", "processing", None),
        ("claude-hook", "stop", "idle", "all done"),
        ("claude-hook", "notification", "waiting_user_answer", "Allow Bash?"),
    ]
    # Bad input never fails the agent CLI.
    for args in [("claude", "--event", "Bogus"), ("codex-notify", "not json"), ("claude", "--thread-id", "x")]:
        assert cs(binary, env, tmp_path, "hook", *args).returncode == 0


def test_doctor_reports_install_state(binary, env, repo):
    r = cs(binary, env, repo, "doctor", "--json")
    report = json.loads(r.stdout)
    names = {c["check"]: c for c in report["checks"]}
    assert names["client configs"]["level"] == "warn"
    assert cs(binary, env, repo, "install").returncode == 0
    skill = repo / ".agents/skills/codestrator/SKILL.md"
    skill.write_text("outdated\n")
    report = json.loads(cs(binary, env, repo, "doctor", "--json").stdout)
    names = {c["check"]: c for c in report["checks"]}
    assert names["codex project server"]["level"] == "ok"
    assert names["codex project skills"]["level"] == "warn"
    r = cs(binary, env, repo, "doctor", "--fix", "--json")
    names = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
    assert names["codex project skills"]["level"] == "ok", names["codex project skills"]
    assert skill.read_text().startswith("---\nname: codestrator\n")
