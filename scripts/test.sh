#!/usr/bin/env bash
# The project's test command: builds, runs the Swift tests, then the integration tests that drive the
# built binary through the official MCP Python SDK against throwaway git repositories, and finally the
# real-client suite, and the README's main job (the demo) from a release build, since that is what a new user runs first.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
CODESTRATOR_BIN="$(swift build --show-bin-path)/codestrator" bash scripts/integration-tests.sh
# The real Codex CLI and Claude Code (pinned, from PyPI, cached) against a scripted model.
CODESTRATOR_BIN="$(swift build --show-bin-path)/codestrator" bash scripts/real-client-tests.sh
# The release build the README runs (static Swift runtime, as documented in docs/getting-started.md).
swift build -c release --static-swift-stdlib --product codestrator
"$(swift build -c release --static-swift-stdlib --show-bin-path)/codestrator" demo
"$(swift build -c release --static-swift-stdlib --show-bin-path)/codestrator" demo --block
