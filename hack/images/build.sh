#!/usr/bin/env bash
# Build aijob's images here, daemonless, and import them into the real node's containerd.
#
#   hack/images/build.sh [--cached-only] [--after-base] [NAME...]    (NAME: base pause operator gateway
#                                                      worker-sklearn worker-pytorch worker-tensorflow)
#
# base   Debian bookworm (debootstrap minbase + python3, venv, CA certificates) committed
#        with buildah as localhost/aijob/python-base:3.11-bookworm.
# pause  a static Go binary alone in an image: containerd's sandbox image.
# others the project's own Dockerfiles (context = repo root) built with
#        `buildah bud --build-arg BASE=<the base image>`; elsewhere the same files build
#        with Docker from the public Python image, their default BASE.
# Each image is tagged localhost/aijob/<name>:<content hash> and rebuilt only when that
# hash changes; it is imported into containerd (namespace k8s.io) as aijob/<name>:<hash>,
# :dev and :<package version> (what the chart and the runtime catalog reference), when the
# node's containerd runs; otherwise node-up imports it later. --cached-only imports what
# is already built and builds nothing. --after-base waits (up to an hour) for another
# build.sh to make the base image instead of building it here (make demo builds the
# PyTorch image at the lowest priority that way). Each image has its own lock: two build.sh may run
# at once (hack/cluster-with-images.sh builds in the background while the cluster starts). A missing Dockerfile is skipped with a message.
# Build stages are kept as a layer cache (`--layers`: a source change re-runs only the
# last steps); --prune drops them afterwards (about as much disk again as the images).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/node/lib.sh"
# shellcheck disable=SC2329
say() { printf '[images] %s\n' "$*"; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

cached_only=0
after_base=0
prune=0
names=()
for arg in "$@"; do
  case "$arg" in
    --cached-only) cached_only=1 ;;
    --prune) prune=1 ;;
    --after-base) after_base=1 ;;
    -*) die "unknown option $arg" ;;
    *) names+=("$arg") ;;
  esac
done
ALL=(base pause operator gateway worker-sklearn worker-pytorch worker-tensorflow)
[[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")

declare -A DOCKERFILE=(
  [operator]=operator/Dockerfile [gateway]=gateway/Dockerfile
  [worker-sklearn]=worker-images/sklearn/Dockerfile
  [worker-pytorch]=worker-images/pytorch/Dockerfile
  [worker-tensorflow]=worker-images/tensorflow/Dockerfile
)
declare -A VERSION_FROM=(
  [operator]=operator/pyproject.toml [gateway]=gateway/pyproject.toml
  [worker-sklearn]=worker-images/sklearn/pyproject.toml
  [worker-pytorch]=worker-images/pytorch/pyproject.toml
  [worker-tensorflow]=worker-images/tensorflow/pyproject.toml
)

[[ $(id -u) -eq 0 ]] || die "building images needs root (buildah's overlay storage and chroot isolation)"
"$REPO_ROOT/hack/node/install-deps.sh" >/dev/null
mkdir -p "$IMAGES_DIR" "$BUILDAH_RUNROOT"
LOG_DIR="$IMAGES_DIR/logs"
mkdir -p "$LOG_DIR"

# lock_image NAME: one build of an image at a time (different images may build side by
# side, e.g. in the background while the cluster comes up). With --cached-only an image
# that another build.sh holds is left to it: that build imports it when it is done.
lock_image() {
  exec 8>"$IMAGES_DIR/.lock-$1"
  if (( cached_only )); then
    flock -n 8 && return 0
    say "$1: being built by another build.sh, which imports it when done"
    exec 8>&-
    return 1
  fi
  flock 8
}
unlock_image() { exec 8>&-; }

image_exists() { bah inspect --type image "$1" >/dev/null 2>&1; }
image_id() { bah inspect --type image --format '{{.FromImageID}}' "$1"; }
package_version() { sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO_ROOT/$1" | head -1; }

# The Debian mirror this machine's apt uses (debootstrap needs one; none is named here).
debian_mirror() {
  if [[ -n ${AIJOB_DEBIAN_MIRROR:-} ]]; then echo "$AIJOB_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ && u {print u; exit}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n $uri ]] || uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n $uri ]] || die "no Debian bookworm mirror in this machine's apt sources; set AIJOB_DEBIAN_MIRROR"
  echo "$uri"
}

# The containerd name of aijob/NAME:TAG, as Kubernetes resolves that short reference.
containerd_ref() { ctrk images ls -q | grep -v '^localhost/' | grep -E "(^|/)aijob/$1:$2\$" | head -1 || true; }

# discard_layer_blobs REF: once an image is unpacked into snapshots, its compressed-or-not
# layer blobs are only needed to unpack it again, which never happens here (an import
# brings them back): drop them, as containerd's discard_unpacked_layers does for pulls.
# This halves the image's disk use in containerd.
discard_layer_blobs() {
  local digest layers
  digest=$(ctrk images ls | awk -v r="$1" '$1 == r {print $3}')
  layers=$(ctrk content get "$digest" | python3 -c '
import json, sys
manifest = json.load(sys.stdin)
print(" ".join(layer["digest"] for layer in manifest.get("layers", [])))')
  [[ -z $layers ]] || ctrk content rm $layers >/dev/null 2>&1 || true
}

# import NAME HASH VERSION: localhost/aijob/NAME:HASH from buildah into containerd, as
# aijob/NAME:HASH plus :dev and :VERSION. A docker-archive is used because its importer
# normalizes names the way the kubelet does (an OCI archive's names stay verbatim).
import_image() {
  local name=$1 hash=$2 version=$3 ref="$IMAGE_PREFIX/$1:$2"
  if ! containerd_running; then
    say "$name: built ($ref); the node's containerd is not running, node-up will import it"
    return 0
  fi
  local full
  full=$(containerd_ref "$name" "$hash")
  if [[ -n $full ]]; then
    say "$name: aijob/$name:$hash already in the node's containerd"
  else
    local started=$SECONDS fifo pusher
    # Streamed through a pipe: no archive the size of the image is written to disk.
    fifo="$IMAGES_DIR/import-$name.fifo"
    rm -f "$fifo" && mkfifo "$fifo"
    bah push --quiet "$ref" "docker-archive:$fifo:aijob/$name:$hash" >"$LOG_DIR/push-$name.log" 2>&1 &
    pusher=$!
    if ! ctrk images import "$fifo" >"$LOG_DIR/import-$name.log" 2>&1; then
      kill "$pusher" 2>/dev/null || true; wait "$pusher" 2>/dev/null || true; rm -f "$fifo"
      die "importing $name failed; see $LOG_DIR/import-$name.log"
    fi
    wait "$pusher" || { rm -f "$fifo"; die "pushing $name failed; see $LOG_DIR/push-$name.log"; }
    rm -f "$fifo"
    ctrk images rm "$ref" >/dev/null 2>&1 || true   # the archive's second name; one is enough
    full=$(containerd_ref "$name" "$hash")
    [[ -n $full ]] || die "$name: aijob/$name:$hash is not in containerd after the import"
    discard_layer_blobs "$full"
    say "$name: imported into containerd in $((SECONDS - started))s"
  fi
  local tag
  for tag in "$STABLE_TAG" ${version:+"$version"}; do
    ctrk images tag --force "$full" "${full%:*}:$tag" >/dev/null
  done
  # Older builds of this image go (containerd frees their content itself).
  local stale
  stale=$(ctrk images ls -q | grep -E "(^|/)aijob/$name:" | grep -vE ":($hash|$STABLE_TAG${version:+|$version})\$" || true)
  [[ -z $stale ]] || ctrk images rm $stale >/dev/null
}

# forget_older NAME HASH: drop buildah's older content-hash tags of NAME.
forget_older() {
  local old
  old=$(bah images --format '{{.Name}}:{{.Tag}}' | grep -E "^$IMAGE_PREFIX/$1:[0-9a-f]{12}\$" | grep -v ":$2\$" || true)
  [[ -z $old ]] || bah rmi $old >/dev/null 2>&1 || true
}

build_base() {
  local packages=python3,python3-venv,python-is-python3,ca-certificates
  local hash
  hash=$(printf 'bookworm minbase %s trim-v1 system-pip-v1 ssl-cert-file' "$packages" | sha256sum | cut -c1-12)
  local ref="$IMAGE_PREFIX/python-base:$hash"
  if image_exists "$ref"; then
    say "base: reusing $ref"
  elif (( cached_only )); then
    say "base: not built (run make images)"; return 0
  else
    local started=$SECONDS rootfs="$IMAGES_DIR/rootfs-base" mirror
    mirror=$(debian_mirror)
    rm -rf "$rootfs"
    say "base: debootstrap bookworm ($packages); log $LOG_DIR/base.log"
    debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" \
      >"$LOG_DIR/base.log" 2>&1 || die "debootstrap failed; see $LOG_DIR/base.log"
    # Smaller image, same behaviour: no docs, man pages or package lists.
    rm -rf "$rootfs"/usr/share/{doc,man,info}/* "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
    local ctr mnt
    ctr=$(bah from scratch)
    mnt=$(bah mount "$ctr")
    tar -C "$rootfs" --numeric-owner --xattrs -cf - . | tar -C "$mnt" --numeric-owner --xattrs -xf -
    bah umount "$ctr" >/dev/null
    # Behave like the public python:3.11-slim image the Dockerfiles default to: pip (and
    # setuptools) for the system Python, from the wheels Debian ships, and no
    # EXTERNALLY-MANAGED marker. TLS clients find the system CA bundle through
    # SSL_CERT_FILE (uv does not look for it otherwise); builds mount the host's over it.
    bah run --isolation chroot "$ctr" -- sh -c 'rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
      && pip_wheel=$(ls /usr/share/python-wheels/pip-*.whl) \
      && python3 "$pip_wheel/pip" install --quiet --no-index --no-cache-dir --disable-pip-version-check \
         "$pip_wheel" /usr/share/python-wheels/setuptools-*.whl \
      && find /usr/local/lib -name __pycache__ -prune -exec rm -rf {} +' \
      >>"$LOG_DIR/base.log" 2>&1 || die "installing pip into the base failed; see $LOG_DIR/base.log"
    bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --env LANG=C.UTF-8 --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
      --cmd python3 --label org.opencontainers.image.title=aijob-python-base \
      --os linux --arch amd64 "$ctr"
    bah commit --quiet --format oci --rm "$ctr" "$ref" >/dev/null
    rm -rf "$rootfs"
    say "base: built $ref in $((SECONDS - started))s"
  fi
  bah tag "$ref" "$BASE_IMAGE"
  forget_older python-base "$hash"
  import_image python-base "$hash" ""
}

build_pause() {
  local src="$REPO_ROOT/hack/images/pause/pause.go" hash
  hash=$( { cat "$src"; go version; } | sha256sum | cut -c1-12)
  local ref="$IMAGE_PREFIX/pause:$hash"
  if image_exists "$ref"; then
    say "pause: reusing $ref"
  elif (( cached_only )); then
    say "pause: not built (run make images)"; return 0
  else
    local work ctr
    work=$(mktemp -d)
    (cd "$work" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o pause "$src") \
      || die "building the pause binary failed"
    ctr=$(bah from scratch)
    bah copy --chmod 0755 "$ctr" "$work/pause" /pause >/dev/null
    bah config --entrypoint '["/pause"]' --user 65535:65535 --os linux --arch amd64 "$ctr"
    bah commit --quiet --format oci --rm "$ctr" "$ref" >/dev/null
    rm -rf "$work"
    say "pause: built $ref"
  fi
  forget_older pause "$hash"
  import_image pause "$hash" ""
}

build_dockerfile() {
  local name=$1 dockerfile="$REPO_ROOT/${DOCKERFILE[$1]}"
  if [[ ! -f $dockerfile ]]; then
    say "$name: skipped, ${DOCKERFILE[$1]} does not exist yet"
    return 0
  fi
  image_exists "$BASE_IMAGE" || die "$name: the base image is missing; build it first (hack/images/build.sh base)"
  local hash version
  hash=$(python3 "$REPO_ROOT/hack/images/content_hash.py" --dockerfile "$dockerfile" \
    --context "$REPO_ROOT" --extra "base=$(image_id "$BASE_IMAGE")")
  version=$(package_version "${VERSION_FROM[$name]}")
  local ref="$IMAGE_PREFIX/$name:$hash"
  if image_exists "$ref"; then
    say "$name: reusing $ref"
  elif (( cached_only )); then
    say "$name: not built for the current sources (run make images)"; return 0
  else
    local started=$SECONDS log="$LOG_DIR/$name.log"
    say "$name: building ${DOCKERFILE[$name]}; log $log"
    bah bud --isolation chroot --layers --pull-never --format oci \
      --build-arg "BASE=$BASE_IMAGE" --volume "$HOST_CA_BUNDLE:$HOST_CA_BUNDLE:ro" \
      -f "$dockerfile" -t "$ref" "$REPO_ROOT" >"$log" 2>&1 \
      || die "$name: build failed; see $log"
    say "$name: built $ref in $((SECONDS - started))s"
  fi
  bah tag "$ref" "$IMAGE_PREFIX/$name:$STABLE_TAG"
  forget_older "$name" "$hash"
  import_image "$name" "$hash" "$version"
}

if (( after_base )); then
  waited=0
  until image_exists "$BASE_IMAGE"; do
    (( waited < 3600 )) || die "no base image after an hour (hack/images/build.sh base builds it)"
    sleep 5; waited=$((waited + 5))
  done
fi
for name in "${names[@]}"; do
  lock_image "$name" || continue
  case "$name" in
    base) build_base ;;
    pause) build_pause ;;
    operator | gateway | worker-*)
      [[ -n ${DOCKERFILE[$name]:-} ]] || die "unknown image $name (known: ${ALL[*]})"
      build_dockerfile "$name" ;;
    *) die "unknown image $name (known: ${ALL[*]})" ;;
  esac
  unlock_image
done
if (( prune )); then
  before=$(du -sh "$BUILDAH_ROOT" | cut -f1)
  bah rmi --prune >/dev/null 2>&1 || true
  say "pruned the build caches (intermediate build stages): $before -> $(du -sh "$BUILDAH_ROOT" | cut -f1)"
fi
