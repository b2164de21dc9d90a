#!/usr/bin/env bash
# Runs the real-client suite (Tests/realclients): the pinned Codex CLI and Claude Code, installed from PyPI into
# a cache outside the checkout (~/.cache/codestrator/clients, or $CODESTRATOR_CLIENTS_CACHE), talk to a scripted
# model on 127.0.0.1 while Codestrator drives them in tmux. Build first; this script never builds.
# Extra arguments go to pytest. A failed download fails the suite (it never skips).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt

if [[ -z "${CODESTRATOR_BIN:-}" ]]; then
  CODESTRATOR_BIN="$(swift build --show-bin-path)/codestrator"
fi
export CODESTRATOR_BIN

exec .venv/bin/python -m pytest -q -p no:cacheprovider Tests/realclients "$@"
