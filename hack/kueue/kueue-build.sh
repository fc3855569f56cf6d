#!/usr/bin/env bash
# Build the Kueue manager from its Go module, once per version (like hack/build-binaries.sh).
#
# Output: $KUEUE_BIN (default ~/.cache/aijob/bin/kueue-<version>/kueue), reused when present,
# and the module's config/ (CRDs, webhook manifests) in the Go module cache, which
# hack/kueue/up.sh reads. Log: ~/.cache/aijob/logs/kueue-<version>.log.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH; install Go >= 1.25 to build Kueue $KUEUE_VERSION"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=mod -trimpath -buildvcs=false"
log="$CACHE_ROOT/logs/kueue-$KUEUE_VERSION.log"
mkdir -p "$CACHE_ROOT/logs" "$(dirname "$KUEUE_BIN")"

if [[ -x "$KUEUE_BIN" && -d "$(kueue_module_dir)/config" ]]; then
  say "reusing cached Kueue $KUEUE_VERSION: $KUEUE_BIN"
  exit 0
fi
say "building Kueue $KUEUE_VERSION (cold: several minutes); log: $log"
{
  go mod download -json "sigs.k8s.io/kueue@$KUEUE_VERSION"
  if [[ ! -x "$KUEUE_BIN" ]]; then
    pkg=sigs.k8s.io/kueue/pkg/version
    GOBIN="$(dirname "$KUEUE_BIN")" nice -n 10 go install \
      -ldflags "-s -w -X $pkg.GitVersion=$KUEUE_VERSION -X $pkg.GitCommit=module-$KUEUE_VERSION" \
      "sigs.k8s.io/kueue/cmd/kueue@$KUEUE_VERSION"
  fi
} >"$log" 2>&1 || die "building Kueue $KUEUE_VERSION failed; see $log"
[[ -x "$KUEUE_BIN" ]] || die "the Kueue build left no binary at $KUEUE_BIN; see $log"
say "Kueue $KUEUE_VERSION ready: $KUEUE_BIN"
