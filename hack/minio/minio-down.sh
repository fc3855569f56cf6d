#!/usr/bin/env bash
# Stop the local object store started by hack/minio/minio-up.sh (its data stays until the
# cluster's directory is removed; the next cluster-up reuses it and its credentials).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

stop_pid_file MinIO "$MINIO_DIR.pid"
