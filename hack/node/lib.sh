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
