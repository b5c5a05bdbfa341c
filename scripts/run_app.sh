#!/usr/bin/env bash
# Set up (the first run takes long) and start Digit Lab on http://localhost:8501 under
# supervisord (scripts/supervisord.conf): a private Redis on a Unix socket, $DIGITLAB_WORKERS
# training workers (default 2, each with one TensorFlow thread per core it gets:
# benchmarks/throughput.py found two 1-thread workers finish a class's mix sooner, with quick
# jobs waiting a third as long, than one 2-thread worker on 2 cores) and Streamlit. Each is
# restarted on its own when it dies; the web server never stops because the queue did, and a
# job interrupted by a crash resumes from its last epoch. Ctrl-C stops them all.
# With DIGITLAB_REDIS_URL set, no Redis is started here: the app and the workers use that
# one, and workers on other machines (`python -m core worker`) can share the queue.
# Folders: runs/ (the runs store), var/redis/ (the queue's data), var/checkpoints/ (running
# jobs' last epochs), var/ (supervisord's socket and log).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${DIGITLAB_SKIP_SETUP:-}" ] || bash scripts/setup.sh  # the Docker image is set up already

export DIGITLAB_ROOT="$PWD"
export DIGITLAB_RUNS="${DIGITLAB_RUNS:-$PWD/runs}"
export DIGITLAB_VAR="${DIGITLAB_VAR:-$PWD/var}"
export DIGITLAB_REDIS_DIR="${DIGITLAB_REDIS_DIR:-$DIGITLAB_VAR/redis}"
export DIGITLAB_CHECKPOINTS="${DIGITLAB_CHECKPOINTS:-$DIGITLAB_VAR/checkpoints}"
mkdir -p "$DIGITLAB_VAR"
mkdir -p "$DIGITLAB_RUNS" 2>/dev/null || echo "warning: cannot create the runs store $DIGITLAB_RUNS" >&2

export DIGITLAB_START_REDIS=false
if [ -z "${DIGITLAB_REDIS_URL:-}" ]; then
    export DIGITLAB_START_REDIS=true
    export DIGITLAB_REDIS_URL="unix://$DIGITLAB_REDIS_DIR/redis.sock"
fi

# Started by supervisord, which keeps this shell's session, the workers share Streamlit's
# scheduling group, so their lowered priority (nice 19) lets the web server go first.
workers="${DIGITLAB_WORKERS:-2}"
threads=$(( $(nproc) / (workers > 0 ? workers : 1) ))  # the cores shared among the workers
export DIGITLAB_TRAIN_THREADS="${DIGITLAB_TRAIN_THREADS:-$(( threads > 0 ? threads : 1 ))}"
export DIGITLAB_WORKER_PROCS=$(( workers > 0 ? workers : 1 ))  # supervisord needs at least 1
export DIGITLAB_START_WORKERS=$([ "$workers" -gt 0 ] && echo true || echo false)
export DIGITLAB_PYTHON="$PWD/.venv/bin/python" DIGITLAB_STREAMLIT="$PWD/.venv/bin/streamlit"
export DIGITLAB_PORT="${PORT:-8501}"

echo "Digit Lab: open http://localhost:$DIGITLAB_PORT (queue at $DIGITLAB_REDIS_URL)"
exec "$PWD/.venv/bin/supervisord" -c scripts/supervisord.conf
