#!/usr/bin/env bash
# Add the real node to the running local cluster: containerd + runc (Debian), the
# kubelet and kube-proxy built with the control plane, a CNI bridge, credentials minted
# from the cluster's CA. Registers aijob-node-0 (label aijob.dev/real-node=true, taint
# aijob.dev/real-node=true:NoSchedule) and waits until it is Ready.
#
# Daemons run in the background with pid files and logs in .cluster/node/; nothing is
# restarted behind your back: a daemon found dead is reported (with its log) and started
# again only by running this script. `hack/node/node-down.sh` removes all of it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/node/lib.sh"
started=$SECONDS

"$REPO_ROOT/hack/node/preflight.sh" >/dev/null || exit 1
"$REPO_ROOT/hack/build-binaries.sh" >/dev/null
"$REPO_ROOT/hack/node/install-deps.sh" >/dev/null
kc get --raw /readyz >/dev/null 2>&1 || die "the local cluster is not up; run hack/cluster-up.sh first"
mkdir -p "$NODE_DIR" "$NODE_STATE" "$NODE_RUN" "$KUBELET_ROOT" "$NODE_STATE/pod-logs"
take_node_lock

ready() { kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -x True >/dev/null; }
# Fast path: everything runs and the node is Ready.
if pid_alive containerd && pid_alive kubelet && pid_alive kube-proxy \
    && nft list table ip "$NFT_TABLE" >/dev/null 2>&1 && ready \
    && ctrk images ls -q | grep -E "(^|/)$PAUSE_REF\$" >/dev/null; then
  say "reusing the running node $NODE_NAME (containerd, kubelet, kube-proxy; logs in $NODE_DIR)"
  exit 0
fi

# --- kernel settings (the old values are kept once, and put back by node-down) ---
SYSCTLS=(net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables vm/overcommit_memory
  vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys
  kernel/keys/root_maxbytes net/netfilter/nf_conntrack_max)
if [[ ! -f "$NODE_DIR/sysctl.saved" ]]; then
  for s in "${SYSCTLS[@]}"; do
    [[ -e /proc/sys/$s ]] && printf '%s=%s\n' "$s" "$(cat "/proc/sys/$s")"
  done >"$NODE_DIR/sysctl.saved"
fi
echo 1 >/proc/sys/net/ipv4/ip_forward
echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables

# --- network: node address, pod bridge, rules that keep pod traffic on this host ---
ensure_bridge() { # NAME ADDRESS/PREFIX
  ip link show "$1" >/dev/null 2>&1 || ip link add "$1" type bridge
  [[ $(ip -o addr show dev "$1") == *"inet $2 "* ]] || ip addr add "$2" dev "$1"
  ip link set "$1" up
}
ensure_bridge "$NODE_IFACE" "$NODE_IP/32"
ensure_bridge "$BRIDGE" "$POD_GATEWAY/${POD_CIDR#*/}"
# Service IPs without an endpoint rule end on the port-less bridge, never on the uplink.
ip route replace "$SERVICE_CIDR" dev "$NODE_IFACE"
# The API server listens on 127.0.0.1 only, and an EndpointSlice cannot hold a loopback
# address, so pods reach it through the `kubernetes` Service by our DNAT to 127.0.0.1
# (route_localnet on the pod bridge only). It runs before kube-proxy's rules; loopback
# is reachable from pods for that connection alone; pods cannot send traffic off host.
echo 1 >"/proc/sys/net/ipv4/conf/$BRIDGE/route_localnet"
nft -f - <<NFT
table ip $NFT_TABLE {}
delete table ip $NFT_TABLE
table ip $NFT_TABLE {
  chain apiserver_dnat {
    type nat hook prerouting priority dstnat - 10; policy accept;
    iifname "$BRIDGE" ip daddr $KUBERNETES_SERVICE_IP tcp dport 443 dnat to 127.0.0.1:$APISERVER_PORT
  }
  chain loopback_guard {
    type filter hook input priority filter - 10; policy accept;
    iifname "$BRIDGE" ip daddr 127.0.0.0/8 ct original ip daddr != $KUBERNETES_SERVICE_IP drop
    iifname "$BRIDGE" ip daddr 127.0.0.0/8 tcp dport != $APISERVER_PORT drop
  }
  chain stay_on_host {
    type filter hook forward priority filter - 10; policy accept;
    iifname "$BRIDGE" oifname != "$BRIDGE" drop
    oifname "$BRIDGE" iifname != "$BRIDGE" drop
  }
}
NFT

# --- cgroups: the kubelet's cgroupRoot in every v1 hierarchy ---
for h in /sys/fs/cgroup/*/; do
  [[ -f "$h/cgroup.procs" && $(stat -f -c %T "$h") == cgroupfs ]] || continue
  mkdir -p "$h${CGROUP_PARENT#/}"
  if [[ -f "$h/cpuset.cpus" ]]; then
    cat "$h/cpuset.cpus" >"$h${CGROUP_PARENT#/}/cpuset.cpus"
    cat "$h/cpuset.mems" >"$h${CGROUP_PARENT#/}/cpuset.mems"
  fi
done

# node_kubeconfig FILE USER GROUP: mint a kubeconfig from the cluster's CA, unless FILE
# already holds one from the same CA (re-minting would change the file for nothing).
node_kubeconfig() {
  local file=$1 user=$2 group=$3 ca
  ca=$(base64 -w0 <"$KWOK_HOME/clusters/$CLUSTER_NAME/pki/ca.crt")
  if [[ -f $file ]] && grep -q "certificate-authority-data: $ca" "$file" \
      && grep -q "server: https://127.0.0.1:$APISERVER_PORT" "$file"; then
    return 0
  fi
  kwokctl get kubeconfig --name "$CLUSTER_NAME" --user "$user" --group "$group" | write_config "$file"
  chmod 600 "$file"
}

# --- containerd (started early by hack/node/containerd-up.sh when images build alongside) ---
start_containerd

# --- images: the base and the sandbox (pause) image, plus any image already built ---
"$REPO_ROOT/hack/images/build.sh" base pause
"$REPO_ROOT/hack/images/build.sh" --cached-only operator gateway worker-sklearn worker-pytorch worker-tensorflow

# --- pod network (CNI) ---
write_config "$NODE_DIR/cni/10-aijob.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "aijob",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$NODE_RUN/cni/networks"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

# --- credentials, minted from the cluster's CA ---
node_kubeconfig "$NODE_DIR/kubelet.kubeconfig" "system:node:$NODE_NAME" system:nodes
node_kubeconfig "$NODE_DIR/kube-proxy.kubeconfig" system:kube-proxy system:node-proxiers
[[ -f "$NODE_DIR/resolv.conf" ]] || : >"$NODE_DIR/resolv.conf"   # no cluster DNS here: pods resolve nothing rather than leak queries

# --- kubelet ---
write_config "$NODE_DIR/kubelet.yaml" <<YAML
# Rendered by hack/node/node-up.sh; do not edit.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $KWOK_HOME/clusters/$CLUSTER_NAME/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_PARENT
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# Absolute eviction thresholds: this disk reserves most of its free blocks, so the default
# percentages (imagefs.available<15%) raise DiskPressure with tens of GB free, and under
# DiskPressure the kubelet evicts pods and deletes images that no registry can give back.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2Gi
  imagefs.available: 2Gi
  nodefs.inodesFree: 5%
  imagefs.inodesFree: 5%
podLogsDir: $NODE_STATE/pod-logs
resolvConf: $NODE_DIR/resolv.conf
registerWithTaints:
- {key: $REAL_NODE_LABEL, value: "true", effect: NoSchedule}
maxPods: 30
serializeImagePulls: false
YAML
start_daemon kubelet "$BIN_DIR/kubelet" --config "$NODE_DIR/kubelet.yaml" \
  --kubeconfig "$NODE_DIR/kubelet.kubeconfig" --hostname-override "$NODE_NAME" \
  --node-ip "$NODE_IP" --root-dir "$KUBELET_ROOT" --node-labels "$REAL_NODE_LABEL=true" --v 1

# --- kube-proxy ---
write_config "$NODE_DIR/kube-proxy.yaml" <<YAML
# Rendered by hack/node/node-up.sh; do not edit.
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $NODE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
mode: iptables
clusterCIDR: $POD_CIDR
nodePortAddresses: ["$NODE_IP/32"]
iptables: {localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 1s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
oomScoreAdj: 0
YAML
start_daemon kube-proxy "$BIN_DIR/kube-proxy" --config "$NODE_DIR/kube-proxy.yaml" --v 1

# --- wait for the node ---
for _ in $(seq 1 120); do
  ready && break
  for d in containerd kubelet kube-proxy; do
    pid_alive "$d" || die "$d exited; see $NODE_DIR/$d.log: $(tail -n 3 "$NODE_DIR/$d.log" | cut -c1-300)"
  done
  sleep 1
done
ready || die "node $NODE_NAME is not Ready after 120s; see $NODE_DIR/kubelet.log"
say "node $NODE_NAME Ready in $((SECONDS - started))s (containerd, kubelet and kube-proxy; logs in $NODE_DIR)"
