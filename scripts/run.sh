#!/usr/bin/env bash
# Builds the release binary and runs the core loop in a throwaway repository through the real binary:
# workspace.init, session.open (a real worktree), an Epic → Feature → TestGroup → Case plan with
# planned steps, case.begin, step.check, then a "crash" (a new process) that resumes at the next
# unchecked step. With --serve, serves MCP over stdio for the repository in the current directory instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
(cd "$root" && swift build -c release --product codestrator >&2)
bin="$root/.build/release/codestrator"
if [ "${1:-}" = "--serve" ]; then exec "$bin" serve --repo "$PWD"; fi

repo="$(mktemp -d)/demo-repo"
mkdir -p "$repo"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=Demo -c user.email=demo@localhost commit -q --allow-empty -m "initial commit"
call() { "$bin" call "$1" --repo "$repo" --params "$2"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

echo "repository: $repo"
call workspace.init '{}' >/dev/null
open=$(call session.open '{"intent":"new_work","user_request":"Fix the login page","agent_role":"sim"}')
sid=$(echo "$open" | field '["session_context"]["session"]["id"]')
echo "✓ session $sid in worktree $(echo "$open" | field '["worktree_path"]') on branch $(echo "$open" | field '["branch"]')"
epic=$(call task.create "{\"level\":\"epic\",\"title\":\"Login\",\"session_id\":$sid}" | field '["id"]')
feature=$(call task.create "{\"level\":\"feature\",\"title\":\"Login form\",\"parent_id\":$epic}" | field '["id"]')
group=$(call task.create "{\"level\":\"testgroup\",\"title\":\"Validation\",\"parent_id\":$feature}" | field '["id"]')
case_id=$(call task.create "{\"level\":\"case\",\"title\":\"Reject empty password\",\"parent_id\":$group,\"steps\":[\"write failing test\",\"implement check\",\"update docs\"]}" | field '["id"]')
echo "✓ plan: epic $epic → feature $feature → testgroup $group → case $case_id with 3 planned steps"
call case.begin "{\"case_id\":$case_id}" >/dev/null
call step.check "{\"case_id\":$case_id,\"step_title\":\"write failing test\",\"result\":\"test added\"}" >/dev/null
echo "✓ case.begin, step 1 checked"
echo "… a new process (as after a crash or a compaction) asks where to resume:"
echo "✓ work.current_ref: $(call work.current_ref "{\"session_id\":$sid}" | field '["current_ref"]["next_action"]')"
echo "✓ resume.next: $(call resume.next "{\"session_id\":$sid}" | field '["next_step"]["title"]')"
echo "Serve it to an MCP client with: $bin serve --repo <your repository>"
