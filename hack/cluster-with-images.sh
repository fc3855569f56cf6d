#!/usr/bin/env bash
# The local cluster up with aijob's images in its real node, in the least time: the
# images build (hack/images/build.sh, mostly downloads and disk) in the background while
# the control plane's binaries build (CPU) and the cluster starts (hack/cluster-up.sh);
# each is imported into the node's containerd, started first, as soon as it is built. Warm, both steps only reuse what is cached.
#
#   hack/cluster-with-images.sh [NAME...]     (NAME as for hack/images/build.sh; default all)
#
# AIJOB_REAL_NODE is passed on to cluster-up. The background build's output goes to
# .cluster/images-build.log and is printed when it ends.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p "$CLUSTER_DIR"
log="$CLUSTER_DIR/images-build.log"
builder=""
stop_builder() { [[ -z $builder ]] || kill -- "-$builder" 2>/dev/null || true; }
trap stop_builder EXIT INT TERM

# The node's containerd first (where the real node will run), so each image is imported
# as soon as it is built rather than after the binaries.
containerd_early=no
case "${AIJOB_REAL_NODE:-auto}" in
  0 | false | no) ;;
  *) if "$REPO_ROOT/hack/node/containerd-up.sh" 2>/dev/null; then
       containerd_early=yes
     else
       say "containerd not started early (cluster-up says why); images are imported after the node"
     fi ;;
esac

# Its own process group (setsid), so a failure here stops the whole build with it.
setsid "$REPO_ROOT/hack/images/build.sh" "$@" >"$log" 2>&1 &
builder=$!
say "building images in the background while the cluster comes up (log: $log)"

"$REPO_ROOT/hack/cluster-up.sh"

say "waiting for the image builds"
if ! wait "$builder"; then
  builder=""
  sed 's/^/    /' "$log"
  die "an image build failed (above; the build logs are under $CACHE_ROOT/images/logs)"
fi
builder=""
sed 's/^/    /' "$log"
# Without an early containerd, the background build imported nothing: import now.
[[ $containerd_early == yes ]] || "$REPO_ROOT/hack/images/build.sh" "$@"
