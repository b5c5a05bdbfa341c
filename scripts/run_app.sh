#!/usr/bin/env bash
# Set up (the first run takes long) and start Digit Lab on http://localhost:8501:
# a private Redis on a Unix socket, $DIGITLAB_WORKERS training workers (default 2, each
# with one TensorFlow thread per core it gets: benchmarks/throughput.py found two 1-thread
# workers finish a class's mix sooner, with quick jobs waiting a third as long, than one
# 2-thread worker on 2 cores) and Streamlit. Ctrl-C, or any one of them ending, stops all of them.
# With DIGITLAB_REDIS_URL set, no Redis is started here: the app and the workers use that
# one, and workers on other machines (`python -m core worker`) can share the queue.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${DIGITLAB_SKIP_SETUP:-}" ] || bash scripts/setup.sh  # the Docker image is set up already

export DIGITLAB_RUNS="${DIGITLAB_RUNS:-$PWD/runs}"
mkdir -p "$DIGITLAB_RUNS"
pids=()
stop() {
    trap - EXIT INT TERM
    # A worker's first TERM waits for its job; the second stops the job too (RQ's cold shutdown).
    kill -TERM "${pids[@]}" 2>/dev/null || true
    sleep 1
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

if [ -z "${DIGITLAB_REDIS_URL:-}" ]; then
    socket="$DIGITLAB_RUNS/redis.sock"
    rm -f "$socket"  # a stale socket from an unclean stop would look like a running Redis
    # No TCP port: only processes on this machine that can open the socket reach it.
    # Snapshots in the runs store keep queued jobs across a restart.
    redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 --dir "$DIGITLAB_RUNS" \
        --dbfilename redis.rdb --save "60 1" --appendonly no --loglevel warning &
    pids+=($!)
    export DIGITLAB_REDIS_URL="unix://$socket"
    for _ in $(seq 100); do redis-cli -s "$socket" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Started from this shell, the workers share its session and scheduling group with
# Streamlit, so their lowered priority (nice 19) lets the web server go first.
workers="${DIGITLAB_WORKERS:-2}"
threads=$(( $(nproc) / (workers > 0 ? workers : 1) ))  # the cores shared among the workers
export DIGITLAB_TRAIN_THREADS="${DIGITLAB_TRAIN_THREADS:-$(( threads > 0 ? threads : 1 ))}"
for _ in $(seq "$workers"); do
    .venv/bin/python -m core worker &
    pids+=($!)
done
echo "Digit Lab: open http://localhost:${PORT:-8501} (queue at $DIGITLAB_REDIS_URL)"
.venv/bin/streamlit run server.py --server.port "${PORT:-8501}" &
pids+=($!)
wait -n
