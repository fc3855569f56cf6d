#!/usr/bin/env bash
# Start the local cluster's S3-compatible object store: MinIO as a host process beside
# etcd, its data under .cluster/minio/, root credentials generated once per cluster.
#
# It listens on every address of this machine at $MINIO_PORT, so tests on the host reach it
# at 127.0.0.1 and pods on the real node at the node's address ($NODE_IP, this machine).
# Writes .cluster/minio.env (mode 600): the root user and password (the admin's, for
# `python -m aijob_operator.tenants`), the endpoint pods use and the one the host uses.
# Reuses a server that is already up and healthy. `hack/minio/minio-down.sh` stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/node/lib.sh"

pid_file="$MINIO_DIR.pid"
log="$CLUSTER_DIR/minio.log"
host_endpoint="http://127.0.0.1:$MINIO_PORT"
healthy() { curl -fs -o /dev/null --max-time 2 "$host_endpoint/minio/health/live"; }
running() { [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

[[ -x "$MINIO_BIN" ]] || die "MinIO is not built ($MINIO_BIN): run hack/build-binaries.sh (make binaries)"
mkdir -p "$MINIO_DIR"
if running && healthy && [[ -f $MINIO_ENV ]]; then
  say "reusing MinIO (pid $(cat "$pid_file")) at $host_endpoint"
  exit 0
fi
if running; then
  say "MinIO (pid $(cat "$pid_file")) does not answer; restarting it"
  kill "$(cat "$pid_file")" 2>/dev/null || true
  for _ in $(seq 1 20); do running || break; sleep 0.5; done
fi
for port in "$MINIO_PORT" "$MINIO_CONSOLE_PORT"; do
  port_in_use "$port" && die "port $port (MinIO) is in use by another process; free it or set AIJOB_MINIO_PORT / AIJOB_MINIO_CONSOLE_PORT"
done

# Root credentials: generated once per cluster (the data directory keeps them).
if [[ ! -f $MINIO_ENV ]]; then
  umask 077
  user="aijob-root-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  password="$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')"
  cat >"$MINIO_ENV" <<ENV
# Written by hack/minio/minio-up.sh: the local object store's ROOT credentials (admin only).
AIJOB_S3_ADMIN_ACCESS_KEY=$user
AIJOB_S3_ADMIN_SECRET_KEY=$password
# Where pods on the real node reach it, and where this machine does.
AIJOB_S3_ENDPOINT=http://$NODE_IP:$MINIO_PORT
AIJOB_S3_HOST_ENDPOINT=$host_endpoint
AIJOB_S3_REGION=us-east-1
ENV
fi
# shellcheck disable=SC1090
source "$MINIO_ENV"

say "starting MinIO on port $MINIO_PORT (data: $MINIO_DIR, log: $log)"
MINIO_ROOT_USER="$AIJOB_S3_ADMIN_ACCESS_KEY" MINIO_ROOT_PASSWORD="$AIJOB_S3_ADMIN_SECRET_KEY" \
MINIO_REGION="$AIJOB_S3_REGION" MINIO_BROWSER=off MINIO_UPDATE=off \
  setsid "$MINIO_BIN" server "$MINIO_DIR" --quiet \
  --address ":$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
  >"$log" 2>&1 </dev/null &
echo $! >"$pid_file"
for _ in $(seq 1 60); do
  healthy && break
  running || die "MinIO exited at start; see $log: $(tail -3 "$log" | tr '\n' ' ')"
  sleep 0.5
done
healthy || die "MinIO does not answer $host_endpoint/minio/health/live after 30s; see $log"
say "MinIO ready: $host_endpoint (pods: $AIJOB_S3_ENDPOINT); credentials in $MINIO_ENV"
