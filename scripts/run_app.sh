#!/usr/bin/env bash
# Set up (first run only takes long) and start Digit Lab on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "Digit Lab: open http://localhost:${PORT:-8501}"
exec .venv/bin/streamlit run app.py --server.port "${PORT:-8501}"
