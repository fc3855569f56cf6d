#!/usr/bin/env bash
# Remove the real node and everything node-up made: the kubelet, kube-proxy and their
# iptables rules, every container and containerd itself, the mounts under the node's
# directories, the pod network, the cgroups, and the kernel settings it changed.
# Imported images stay in containerd's store (~/.cache/aijob/node/containerd) for the
# next node-up. Safe to run when nothing is up. Checks that nothing is left.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/node/lib.sh"

# stop_daemon NAME: SIGTERM the recorded process, SIGKILL after 15 s.
stop_daemon() {
  local name=$1 pid
  pid=$(cat "$NODE_DIR/$name.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { say "$name did not stop on SIGTERM; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$NODE_DIR/$name.pid"
}

take_node_lock

# The Node object goes first, so nothing is scheduled while the node goes away
# (its pods are then removed by the pod garbage collector).
if [[ -f "$KUBECONFIG_PATH" ]] && kc get node "$NODE_NAME" >/dev/null 2>&1; then
  kc delete node "$NODE_NAME" --wait=false >/dev/null && say "deleted node $NODE_NAME"
fi
stop_daemon kubelet
stop_daemon kube-proxy
if [[ -x "$BIN_DIR/kube-proxy" ]] && iptables-save 2>/dev/null | grep KUBE- >/dev/null; then
  "$BIN_DIR/kube-proxy" --cleanup >"$NODE_DIR/kube-proxy-cleanup.log" 2>&1 || true
fi
# The kubelet's own chains (canaries, KUBE-FIREWALL) are not kube-proxy's to remove.
for cmd in iptables ip6tables; do
  for table in mangle nat filter; do
    for hook in INPUT OUTPUT; do
      while $cmd -t "$table" -D "$hook" -j KUBE-FIREWALL 2>/dev/null; do :; done
    done
    for chain in $($cmd -t "$table" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
      $cmd -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $($cmd -t "$table" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
      $cmd -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
done
# Tables the iptables tools created for them and that hold nothing now.
for family in ip ip6; do
  for table in mangle nat filter; do
    if nft list table "$family" "$table" >/dev/null 2>&1 \
        && ! nft list table "$family" "$table" | grep -vE '^\s*(table .*\{|chain [^ ]+ \{|type .* policy accept;|\}|)$' >/dev/null; then
      nft delete table "$family" "$table" 2>/dev/null || true
    fi
  done
done

# Every container (and so every shim) goes with containerd.
if containerd_running; then
  tasks=$(ctrk tasks ls -q 2>/dev/null || true)
  for t in $tasks; do ctrk tasks kill --signal SIGKILL "$t" >/dev/null 2>&1 || true; done
  for t in $tasks; do
    for _ in $(seq 1 20); do ctrk tasks delete "$t" >/dev/null 2>&1 && break; sleep 0.25; done
  done
  containers=$(ctrk containers ls -q 2>/dev/null || true)
  [[ -z $containers ]] || { say "removing $(wc -w <<<"$containers") containers"; ctrk containers rm $containers >/dev/null 2>&1 || true; }
fi
stop_daemon containerd
# A shim whose task could not be deleted is found by our socket path in its arguments.
for pid in $(pgrep -f -- "-address $CONTAINERD_SOCK" || true); do
  say "stopping leftover containerd shim $pid"; kill -KILL "$pid" 2>/dev/null || true
done

# Mounts: pod volumes, sandbox netns and shm, container root filesystems, the kubelet's
# bind mount of its root dir; deepest first.
unmount_under() {
  local prefix=$1 target
  findmnt -rn -o TARGET | awk -v p="$prefix" 'index($0, p) == 1' | sort -r | while read -r target; do
    target=$(printf '%b' "$target")
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || say "cannot unmount $target"
  done
}
unmount_under "$NODE_RUN"
unmount_under "$KUBELET_ROOT"
rm -rf "$NODE_RUN" "$KUBELET_ROOT/pods" "$KUBELET_ROOT/plugins" "$KUBELET_ROOT/plugins_registry" \
  "$KUBELET_ROOT/pod-resources" "$KUBELET_ROOT"/*_state "$NODE_STATE/pod-logs"

# Network: rules, bridges (their veths went with the pods' namespaces), routes.
nft delete table ip "$NFT_TABLE" 2>/dev/null || true
ip route del "$SERVICE_CIDR" dev "$NODE_IFACE" 2>/dev/null || true
for link in "$BRIDGE" "$NODE_IFACE"; do ip link del "$link" 2>/dev/null || true; done

# cgroups: the kubelet's tree under $CGROUP_PARENT in each hierarchy, leaves first.
for h in /sys/fs/cgroup/*/; do
  [[ -d "$h${CGROUP_PARENT#/}" ]] || continue
  find "$h${CGROUP_PARENT#/}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  [[ -d "$h${CGROUP_PARENT#/}" ]] && say "cannot remove cgroup $h${CGROUP_PARENT#/} (a process is still in it?)"
done

# Kernel settings back to what node-up found.
if [[ -f "$NODE_DIR/sysctl.saved" ]]; then
  while IFS='=' read -r key value; do
    [[ -w /proc/sys/$key ]] && echo "$value" >"/proc/sys/$key" 2>/dev/null || say "cannot restore $key"
  done <"$NODE_DIR/sysctl.saved"
  rm -f "$NODE_DIR/sysctl.saved"
fi

# Check: no process, mount, link or cgroup of the node is left.
left=()
for name in containerd kubelet kube-proxy; do pid_alive "$name" && left+=("$name process"); done
pgrep -f -- "-address $CONTAINERD_SOCK" >/dev/null && left+=("containerd shims")
pgrep -f "^$BIN_DIR/(kubelet|kube-proxy)( |$)" >/dev/null && left+=("kubelet/kube-proxy processes")
findmnt -rn -o TARGET | grep -E "^($NODE_RUN|$KUBELET_ROOT)" >/dev/null && left+=("mounts under $NODE_RUN or $KUBELET_ROOT")
for link in "$BRIDGE" "$NODE_IFACE"; do ip link show "$link" >/dev/null 2>&1 && left+=("link $link"); done
nft list table ip "$NFT_TABLE" >/dev/null 2>&1 && left+=("nft table $NFT_TABLE")
ls -d /sys/fs/cgroup/*"$CGROUP_PARENT" >/dev/null 2>&1 && left+=("cgroups $CGROUP_PARENT")
if [[ ${#left[@]} -gt 0 ]]; then
  die "the node left: ${left[*]}"
fi
say "real node stopped; nothing of it is left (images stay in $NODE_STATE/containerd)"
