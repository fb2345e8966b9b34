#!/usr/bin/env bash
# The browser end-to-end and accessibility tests alone (scripts/test runs them after the Swift tests):
# starts the SMTP sink, the sandbox PSP and the browser tools, builds the portal, runs scripts/e2e/run.py, cleans up on exit.
# Arguments go to run.py, e.g. `scripts/e2e/run.sh --tenant tim`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/services.sh

echo "== services"
start_smtp_sink
start_sandbox_psp
# The sandbox lookup service: Tunda's domain search, TIM's line test, WINDTRE's option compatibility.
start_lookup_service
start_browser_tools

echo "== build"
swift build --product sportello

echo "== browser end-to-end and accessibility (headless Chromium, axe-core)"
"$SPORTELLO_E2E_PYTHON" scripts/e2e/run.py "$@"
