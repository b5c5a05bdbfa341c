#!/usr/bin/env bash
# The lab's private Redis (scripts/supervisord.conf starts it): a Unix socket, no TCP port,
# and its own data folder ($DIGITLAB_REDIS_DIR, default var/redis), apart from the runs
# store, so a full or unwritable store never stops the queue (or the other way round).
# Every write reaches the append-only file within a second (appendfsync everysec): a job
# queued a moment before a crash is still there after it. No RDB snapshots.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${DIGITLAB_REDIS_DIR:-$PWD/var/redis}"
mkdir -p "$dir"
# One Redis per folder: a second one on the same socket and files would answer in its
# place and, when stopped, overwrite the data with its own. The lock is held by
# redis-server itself (it inherits fd 9), so it lasts exactly as long as that Redis.
exec 9>"$dir/redis.lock"
if ! flock --nonblock 9; then
    echo "A Redis already runs on $dir (another Digit Lab?): stop it first." >&2
    exit 75
fi
exec redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
    --appendonly yes --appendfsync everysec --appenddirname appendonly --save "" --loglevel warning
