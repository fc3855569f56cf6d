#!/usr/bin/env bash
# Settings of the real node and of the locally built images (sourced after hack/lib.sh).
#
# The node is one kubelet on this machine, registered as aijob-node-0 beside KWOK's
# simulated nodes. Everything it owns has a fixed place so node-down can remove it all:
#   $NODE_STATE  (~/.cache/aijob/node)  containerd's content store (imported images survive
#                                       node-down), the kubelet's root dir, credentials
#   $NODE_RUN    (/run/aijob-node)      sockets, containerd's state and netns mounts, CNI IPAM
#   $NODE_DIR    (.cluster/node)        rendered configs, pid files and logs
# Networking stays on this machine: the node's address is on a port-less bridge, pods live
# on a bridge, and nft rules keep pod traffic from leaving the host.
# shellcheck disable=SC2034  # settings used by the scripts that source this file
NODE_NAME="${AIJOB_NODE_NAME:-aijob-node-0}"
NODE_STATE="$CACHE_ROOT/node"
NODE_RUN=/run/aijob-node
NODE_DIR="$CLUSTER_DIR/node"
CONTAINERD_SOCK="$NODE_RUN/containerd/containerd.sock"
KUBELET_ROOT="$NODE_STATE/kubelet"
CGROUP_PARENT=/aijob             # the kubelet's cgroupRoot, in every mounted v1 hierarchy

NODE_IFACE=aijob0                # port-less bridge (a dummy: this kernel has no dummy driver) holding the node's address
NODE_IP=10.250.0.1               # InternalIP of the node: kubelet API, NodePorts
BRIDGE=aijob-br0                 # CNI bridge of the pods
POD_CIDR=10.244.0.0/24
POD_GATEWAY=10.244.0.1
SERVICE_CIDR=10.0.0.0/24         # kube-apiserver's default service range
KUBERNETES_SERVICE_IP=10.0.0.1   # the `kubernetes` Service
NFT_TABLE=aijob_node             # `table ip aijob_node`: our DNAT, input and forward rules

REAL_NODE_LABEL=aijob.dev/real-node
HOST_CA_BUNDLE="${AIJOB_HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

IMAGES_DIR="$CACHE_ROOT/images"
BUILDAH_ROOT="$IMAGES_DIR/storage"
BUILDAH_RUNROOT=/run/aijob-buildah
IMAGE_PREFIX=localhost/aijob
STABLE_TAG=dev
BASE_IMAGE="$IMAGE_PREFIX/python-base:3.11-bookworm"
PAUSE_REF="aijob/pause:$STABLE_TAG"      # containerd's sandbox_image (imported by images/build.sh)

# buildah on the project's own storage (overlay driver, daemonless).
bah() { buildah --root "$BUILDAH_ROOT" --runroot "$BUILDAH_RUNROOT" --storage-driver overlay "$@"; }
# containerd's client on the node's socket, in the namespace the kubelet uses.
ctrk() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }
containerd_running() { [[ -S "$CONTAINERD_SOCK" ]] && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }

# pid_alive NAME: the process recorded in $NODE_DIR/NAME.pid still runs.
pid_alive() {
  local pid
  pid=$(cat "$NODE_DIR/$1.pid" 2>/dev/null) || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# One node-up or node-down at a time on this machine (fd 9; daemons are started without it).
take_node_lock() {
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/node.lock"
  flock 9
}

# write_config FILE: stdin into FILE, only when the content differs (kube-proxy exits when
# its configuration file changes, so an unchanged file must stay untouched).
write_config() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; changed_configs+=("$1"); fi
}

changed_configs=()

# start_daemon NAME COMMAND...: start in the background unless it runs; pid file + log.
start_daemon() {
  local name=$1; shift
  if pid_alive "$name"; then
    say "$name is running (pid $(cat "$NODE_DIR/$name.pid"))"
    local changed
    for changed in "${changed_configs[@]}"; do
      [[ $changed == "$NODE_DIR/$name".* ]] && say "WARNING: $changed changed while $name runs;" \
        "it applies after hack/node/node-down.sh and node-up.sh"
    done
    return 0
  fi
  if [[ -f "$NODE_DIR/$name.pid" ]]; then
    say "$name (pid $(cat "$NODE_DIR/$name.pid")) had stopped; its last log lines:"
    tail -n 5 "$NODE_DIR/$name.log" 2>/dev/null | sed 's/^/    /' || true
    mv -f "$NODE_DIR/$name.log" "$NODE_DIR/$name.log.old" 2>/dev/null || true
  fi
  say "starting $name; log $NODE_DIR/$name.log"
  setsid "$@" >"$NODE_DIR/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$NODE_DIR/$name.pid"
}

# start_containerd: the node's containerd (config rendered into $NODE_DIR), unless it runs;
# waits for its socket. Needs no cluster: images can be imported before the node exists.
start_containerd() {
  mkdir -p "$NODE_DIR/cni"
  write_config "$NODE_DIR/containerd.toml" <<TOML
# Rendered by hack/node (start_containerd); do not edit.
version = 2
root = "$NODE_STATE/containerd"
state = "$NODE_RUN/containerd"
oom_score = 0
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_STATE/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_REF"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  tolerate_missing_hugetlb_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni"
    max_conf_num = 1
TOML
  start_daemon containerd containerd --config "$NODE_DIR/containerd.toml"
  for _ in $(seq 1 60); do containerd_running && break; pid_alive containerd || break; sleep 0.5; done
  containerd_running || die "containerd did not start; see $NODE_DIR/containerd.log"
}
