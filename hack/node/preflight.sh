#!/usr/bin/env bash
# Can this machine run the real node? Prints each missing capability and exits 1 when
# one is missing (the simulated nodes do not need any of this).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/node/lib.sh"

problems=()
[[ $(id -u) -eq 0 ]] || problems+=("not root: the kubelet, containerd and the pod network need root")
[[ $(uname -s) == Linux ]] || problems+=("not Linux: the kubelet runs containers on Linux only")
if [[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
  for c in cpu memory pids; do
    grep -qw "$c" /sys/fs/cgroup/cgroup.controllers 2>/dev/null \
      || problems+=("cgroup v2 controller '$c' is not available in /sys/fs/cgroup")
  done
else
  for c in cpu cpuacct cpuset memory pids; do
    grep -qE "^${c}[[:space:]].*[[:space:]]1$" /proc/cgroups 2>/dev/null \
      && findmnt -rn -t cgroup -o OPTIONS | tr ',' '\n' | grep -x "$c" >/dev/null \
      || problems+=("cgroup v1 controller '$c' is not enabled and mounted under /sys/fs/cgroup")
  done
fi
grep -qw overlay /proc/filesystems || problems+=("no overlay filesystem in this kernel (/proc/filesystems)")
[[ -e /dev/kmsg ]] || problems+=("no /dev/kmsg (the kubelet's OOM watcher reads it)")
[[ -w /proc/sys/net/ipv4/ip_forward ]] || problems+=("cannot write /proc/sys/net/ipv4/ip_forward: pod networking needs ip_forward and bridge sysctls")
[[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] \
  || problems+=("no br_netfilter (net.bridge.bridge-nf-call-iptables): Services would not reach pods on the bridge")
if [[ $(id -u) -eq 0 ]]; then
  if ip link add aijob-probe0 type bridge 2>/dev/null; then
    ip link del aijob-probe0
  else
    problems+=("cannot create network interfaces (ip link add): no CAP_NET_ADMIN")
  fi
fi
if [[ ${#problems[@]} -gt 0 ]]; then
  printf '[preflight] this machine cannot run the real node:\n' >&2
  printf '[preflight]   - %s\n' "${problems[@]}" >&2
  exit 1
fi
printf '[preflight] the machine can run the real node\n'
