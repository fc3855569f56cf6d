#!/usr/bin/env bash
# Stop the local object store started by hack/minio/minio-up.sh (its data stays until the
# cluster's directory is removed; the next cluster-up reuses it and its credentials).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

pid_file="$MINIO_DIR.pid"
[[ -f $pid_file ]] || { say "MinIO is not running (no $pid_file)"; exit 0; }
pid=$(cat "$pid_file")
if kill -0 "$pid" 2>/dev/null; then
  say "stopping MinIO (pid $pid)"
  kill "$pid"
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pid_file"
kill -0 "$pid" 2>/dev/null && die "MinIO (pid $pid) is still running"
say "MinIO stopped"
