#!/usr/bin/env bash
# Settings of the local Kueue (sourced after hack/lib.sh, not run).
KUEUE_VERSION="${KUEUE_VERSION:-v0.17.0}"
KUEUE_BIN="${AIJOB_KUEUE_BIN:-$CACHE_ROOT/bin/kueue-$KUEUE_VERSION/kueue}"
KUEUE_DIR="$CLUSTER_DIR/kueue"
KUEUE_WEBHOOK_PORT="${AIJOB_KUEUE_WEBHOOK_PORT:-32950}"
KUEUE_METRICS_PORT="${AIJOB_KUEUE_METRICS_PORT:-32951}"
KUEUE_HEALTH_PORT="${AIJOB_KUEUE_HEALTH_PORT:-32952}"

# The module's source tree in the Go module cache (config/ holds the CRDs and webhooks).
kueue_module_dir() { echo "$(go env GOMODCACHE)/sigs.k8s.io/kueue@$KUEUE_VERSION"; }
