"""`codestrator doctor` names the causes a real client fails on: an untrusted repository for Codex, Codex tools
without the approval setting, a project server Claude Code has not approved, and untested client versions."""

from __future__ import annotations

import json


def doctor(world) -> dict[str, dict]:
    p = world.run(world.binary, "doctor", "--json", "--repo", str(world.repo))
    return {c["check"]: c for c in json.loads(p.stdout)["checks"]}


def test_doctor_warns_about_trust_approval_and_pending_project_server(world):
    world.install("codex", scope="project")
    world.install("claude", scope="project")
    checks = doctor(world)
    assert checks["codex version"]["level"] == "ok", checks["codex version"]
    assert checks["claude version"]["level"] == "ok", checks["claude version"]
    assert checks["codex trust"]["level"] == "warn", checks["codex trust"]
    assert checks["codex tool approval"]["level"] == "ok", checks["codex tool approval"]
    assert checks["claude project server"]["level"] == "warn", checks["claude project server"]
    # The user trusts the repository and approves the server: the warnings go.
    cfg = world.codex_home / "config.toml"
    cfg.write_text(cfg.read_text() + f'\n[projects."{world.repo}"]\ntrust_level = "trusted"\n')
    cj = world.home / ".claude.json"
    data = json.loads(cj.read_text())
    data.setdefault("projects", {})[str(world.repo)] = {"enabledMcpjsonServers": ["codestrator"]}
    cj.write_text(json.dumps(data))
    checks = doctor(world)
    assert checks["codex trust"]["level"] == "ok" and checks["claude project server"]["level"] == "ok", checks


def test_doctor_warns_on_an_untested_version(world):
    fake = world.bin_dir / "codex"
    fake.unlink()
    fake.write_text("#!/bin/sh\necho 'codex-cli 0.1.0'\n")
    fake.chmod(0o755)
    checks = doctor(world)
    assert checks["codex version"]["level"] == "warn" and "0.163.0" in checks["codex version"]["found"], checks
