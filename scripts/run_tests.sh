#!/usr/bin/env bash
# Set up (with test tools and Chromium) and run every test, the browser test included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export TF_CPP_MIN_LOG_LEVEL=2 DIGITLAB_REQUIRE_BROWSER=1
exec .venv/bin/python -m pytest "$@"
