#!/usr/bin/env bash
# Install the Debian packages the real node and the image builds need (idempotent).
#
# containerd + runc run the pods, containernetworking-plugins gives them a network,
# iptables (nft backend) and conntrack are what kube-proxy programs, nftables holds the
# node's own rules, buildah builds images daemonless and debootstrap makes the base
# image's root filesystem. Nothing is downloaded outside Debian's packages. Runs
# `apt-get update` only when something is missing; needs root for that.
set -euo pipefail

PACKAGES=(containerd runc containernetworking-plugins iptables nftables conntrack
  buildah debootstrap ca-certificates iproute2 kmod)
# One file per package proves it is installed (cheaper and quieter than dpkg-query).
declare -A PROBE=(
  [containerd]=/usr/bin/containerd [runc]=/usr/sbin/runc
  [containernetworking-plugins]=/usr/lib/cni/bridge [iptables]=/usr/sbin/iptables
  [nftables]=/usr/sbin/nft [conntrack]=/usr/sbin/conntrack [buildah]=/usr/bin/buildah
  [debootstrap]=/usr/sbin/debootstrap [ca-certificates]=/etc/ssl/certs/ca-certificates.crt
  [iproute2]=/usr/sbin/ip [kmod]=/usr/sbin/modprobe
)

find_missing() {
  missing=()
  local p
  for p in "${PACKAGES[@]}"; do
    [[ -e "${PROBE[$p]}" ]] || missing+=("$p")
  done
}
find_missing
if [[ ${#missing[@]} -eq 0 ]]; then
  printf '[install-deps] node packages present (%s)\n' "${PACKAGES[*]}"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  printf '[install-deps] ERROR: missing Debian packages: %s; run as root or install them: apt-get install %s\n' \
    "${missing[*]}" "${missing[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null 2>&1 || {
  printf '[install-deps] ERROR: no apt-get: install %s with this system'"'"'s package manager\n' "${missing[*]}" >&2
  exit 1
}
# One install at a time (the image build and node-up may both get here at once); the
# second finds the packages there after waiting.
exec 7>/run/lock/aijob-install-deps.lock
flock 7
find_missing
[[ ${#missing[@]} -gt 0 ]] || exit 0
printf '[install-deps] installing: %s\n' "${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# No init system here: keep package scripts from trying to start containerd themselves.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
fi
trap '[[ $own_policy -eq 1 ]] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for p in "${missing[@]}"; do
  [[ -e "${PROBE[$p]}" ]] || { printf '[install-deps] ERROR: %s did not install %s\n' "$p" "${PROBE[$p]}" >&2; exit 1; }
done
printf '[install-deps] installed: %s\n' "${missing[*]}"
