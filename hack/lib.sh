#!/usr/bin/env bash
# Shared settings of the cluster scripts (sourced, not run).
K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.8}"
CACHE_ROOT="${AIJOB_CACHE:-$HOME/.cache/aijob}"
BIN_DIR="${AIJOB_BIN_DIR:-$CACHE_ROOT/bin/k8s-$K8S_VERSION}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_NAME="${AIJOB_CLUSTER_NAME:-aijob}"
CLUSTER_DIR="$REPO_ROOT/.cluster"
if [[ "$CLUSTER_NAME" == aijob ]]; then KUBECONFIG_PATH="$CLUSTER_DIR/kubeconfig"; else KUBECONFIG_PATH="$CLUSTER_DIR/$CLUSTER_NAME.kubeconfig"; fi
APISERVER_PORT="${AIJOB_APISERVER_PORT:-32443}"
KWOK_HOME="${KWOK_WORKDIR:-$HOME/.kwok}"
MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
MINIO_BIN="$CACHE_ROOT/bin/minio-$MINIO_VERSION/minio"
# The local object store (hack/minio-up.sh): S3 API and console ports, its data and the
# file with its root credentials and addresses (mode 600, git-ignored like all of .cluster/).
MINIO_PORT="${AIJOB_MINIO_PORT:-32900}"
MINIO_CONSOLE_PORT="${AIJOB_MINIO_CONSOLE_PORT:-32901}"
MINIO_DIR="$CLUSTER_DIR/minio"
MINIO_ENV="$CLUSTER_DIR/minio.env"
export PATH="$BIN_DIR:$PATH"

say() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }
kc() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Stop a host process started with its pid in a file (MinIO, Kueue): TERM, up to 10 s, then KILL.
stop_pid_file() { # name pid-file
  local name=$1 pid_file=$2 pid
  [[ -f $pid_file ]] || { say "$name is not running (no $pid_file)"; return 0; }
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $name (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  kill -0 "$pid" 2>/dev/null && die "$name (pid $pid) is still running"
  say "$name stopped"
}
