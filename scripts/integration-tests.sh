#!/usr/bin/env bash
# Runs the Python integration suite (Tests/integration) against an already built codestrator binary.
# Build first (swift build); this script never builds. Override the binary with CODESTRATOR_BIN.
# Extra arguments are passed to pytest (e.g. -k resume, -x, -vv) and run that selection once; without any, the
# whole suite runs, then the thread tests again with the one-shot tmux adapter.
# CODESTRATOR_TMUX_ADAPTER=oneshot runs a selection with the one-shot adapter.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
# Cheap when already satisfied; keeps the venv in step with the pinned requirements.
.venv/bin/pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt

if [[ -z "${CODESTRATOR_BIN:-}" ]]; then
  CODESTRATOR_BIN="$(swift build --show-bin-path)/codestrator"
fi
export CODESTRATOR_BIN

if [[ ! -x "$CODESTRATOR_BIN" ]]; then
  echo "integration-tests: no executable at $CODESTRATOR_BIN; run swift build first or set CODESTRATOR_BIN" >&2
  exit 2
fi

if [[ $# -gt 0 ]]; then
  exec .venv/bin/python -m pytest -q Tests/integration "$@"
fi
# The whole suite (with tmux control mode, the default), then the thread tests once more with one tmux process per
# command (CODESTRATOR_TMUX_ADAPTER=oneshot, docs/runtime-guide.md#tmux-control-mode), the fallback adapter.
status=0
.venv/bin/python -m pytest -q Tests/integration || status=$?
CODESTRATOR_TMUX_ADAPTER=oneshot .venv/bin/python -m pytest -q Tests/integration \
  -k "threads or readonly or control_mode" || status=$?
exit "$status"
