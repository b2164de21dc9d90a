#!/usr/bin/env bash
# The project's test command: builds, runs the Swift tests, then the integration tests that drive the
# built binary through the official MCP Python SDK against throwaway git repositories.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
CODESTRATOR_BIN="$(swift build --show-bin-path)/codestrator" bash scripts/integration-tests.sh
