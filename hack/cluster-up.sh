#!/usr/bin/env bash
# Bring the local cluster up: a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler built from Go modules) run by
# `kwokctl --runtime binary` on 127.0.0.1, KWOK simulating two GPU nodes and a CPU
# node with aijob's pod-lifecycle stages, and MinIO, the S3-compatible artifact store
# (hack/minio/minio-up.sh). Reuses a cluster that is already up.
# Writes the kubeconfig to .cluster/kubeconfig (git-ignored).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$SECONDS

"$REPO_ROOT/hack/build-binaries.sh"
mkdir -p "$CLUSTER_DIR"

cluster_healthy() {
  [[ -f "$KUBECONFIG_PATH" ]] && kc get --raw /readyz >/dev/null 2>&1
}

if kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kwokctl get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_PATH" 2>/dev/null || true
  if cluster_healthy; then
    say "reusing the running cluster '$CLUSTER_NAME' ($KUBECONFIG_PATH)"
  else
    say "cluster '$CLUSTER_NAME' exists but does not answer; starting it"
    kwokctl start cluster --name "$CLUSTER_NAME" >"$CLUSTER_DIR/kwokctl-start.log" 2>&1 \
      || die "kwokctl start failed; see $CLUSTER_DIR/kwokctl-start.log (or run make cluster-down and retry)"
    kwokctl get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_PATH"
  fi
else
  if port_in_use "$APISERVER_PORT"; then
    die "port $APISERVER_PORT (kube-apiserver) is in use by another process; free it or set AIJOB_APISERVER_PORT"
  fi
  config="$CLUSTER_DIR/$CLUSTER_NAME-kwokctl.yaml"
  cat >"$config" <<YAML
# Rendered by hack/cluster-up.sh; do not edit.
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeApiserverPort: $APISERVER_PORT
  kubeVersion: $K8S_VERSION
  etcdVersion: $ETCD_VERSION
  kubeApiserverBinary: $BIN_DIR/kube-apiserver
  kubeControllerManagerBinary: $BIN_DIR/kube-controller-manager
  kubeSchedulerBinary: $BIN_DIR/kube-scheduler
  kubectlBinary: $BIN_DIR/kubectl
  kwokControllerBinary: $BIN_DIR/kwok
  etcdBinary: $BIN_DIR/etcd
  kubeAuthorization: true
  kubeAdmission: true
  disableQPSLimits: true
  kubeApiserverCertSANs: ["10.0.0.1", "127.0.0.1", "localhost"]
componentsPatches:
- name: kube-apiserver
  extraArgs:
  # kwokctl gives the API server no kubelet client credentials; without them
  # kubectl logs/exec on the real node would be refused.
  - key: kubelet-client-certificate
    value: $KWOK_HOME/clusters/$CLUSTER_NAME/pki/admin.crt
  - key: kubelet-client-key
    value: $KWOK_HOME/clusters/$CLUSTER_NAME/pki/admin.key
  - key: kubelet-preferred-address-types
    value: InternalIP,Hostname
- name: kwok-controller
  extraArgs:
  - key: manage-all-nodes
    value: "false"
    override: true
  - key: manage-nodes-with-annotation-selector
    value: kwok.x-k8s.io/node=fake
---
YAML
  cat "$REPO_ROOT/hack/cluster/stages.yaml" >>"$config"
  say "creating cluster '$CLUSTER_NAME' (Kubernetes $K8S_VERSION, apiserver on 127.0.0.1:$APISERVER_PORT)"
  if ! kwokctl create cluster --name "$CLUSTER_NAME" --config "$config" \
      --kubeconfig "$KUBECONFIG_PATH" --wait 3m >"$CLUSTER_DIR/kwokctl-create.log" 2>&1; then
    die "kwokctl create cluster failed; see $CLUSTER_DIR/kwokctl-create.log and $KWOK_HOME/clusters/$CLUSTER_NAME/logs/"
  fi
  kwokctl get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_PATH"
fi

for _ in $(seq 1 60); do cluster_healthy && break; sleep 1; done
cluster_healthy || die "the API server does not answer /readyz; see $KWOK_HOME/clusters/$CLUSTER_NAME/logs/"

# The object store beside the control plane (artifacts of every tenant, a bucket each).
"$REPO_ROOT/hack/minio/minio-up.sh"

kc apply -f "$REPO_ROOT/hack/cluster/nodes.yaml" >/dev/null
kc wait --for=condition=Ready node -l type=kwok --timeout=60s >/dev/null \
  || die "simulated nodes did not become Ready; see $KWOK_HOME/clusters/$CLUSTER_NAME/logs/kwok-controller.log"

# The real node (hack/node/): added where the machine allows. AIJOB_REAL_NODE=0 skips it,
# AIJOB_REAL_NODE=1 makes any failure of it fatal; by default a failure is a warning.
case "${AIJOB_REAL_NODE:-auto}" in
  0 | false | no) say "real node skipped (AIJOB_REAL_NODE=0)" ;;
  1 | true | yes) "$REPO_ROOT/hack/node/node-up.sh" || die "the real node did not come up (AIJOB_REAL_NODE=1)" ;;
  *)
    if ! preflight=$("$REPO_ROOT/hack/node/preflight.sh" 2>&1); then
      say "WARNING: no real node, only simulated ones:"; printf '%s\n' "$preflight" | sed 's/^/    /'
    elif ! "$REPO_ROOT/hack/node/node-up.sh"; then
      say "WARNING: the real node did not come up (see above); the simulated nodes work. AIJOB_REAL_NODE=0 skips it"
    fi ;;
esac

say "cluster '$CLUSTER_NAME' ready in $((SECONDS - started))s; server $(kc version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1)"
kc get nodes -o custom-columns='NAME:.metadata.name,STATUS:.status.conditions[?(@.type=="Ready")].status,GPU:.status.allocatable.nvidia\.com/gpu,CPU:.status.allocatable.cpu'
say "export KUBECONFIG=$KUBECONFIG_PATH"
