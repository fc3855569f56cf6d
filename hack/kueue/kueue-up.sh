#!/usr/bin/env bash
# Add Kueue to the running local cluster (opt-in: `make kueue-up`; `make test` does it too).
#
# The Kueue manager (built from its Go module by hack/kueue/kueue-build.sh, cached) runs as a
# host process beside the control plane, like MinIO: pid .cluster/kueue.pid, log
# .cluster/kueue.log, configuration and certificates under .cluster/kueue/. Its webhooks are
# served on 127.0.0.1:$KUEUE_WEBHOOK_PORT with a local CA and serving certificate (openssl;
# Kueue's internal certificate management off), and the webhook configurations are Kueue's
# own manifests rewritten to that URL (hack/kueue/render.py): only Kueue's kinds and batch
# Jobs, the only integration enabled, and only Jobs with a queue label
# (manageJobsWithoutQueueName: false). Idempotent: a running, healthy Kueue is reused.
# `hack/kueue/kueue-down.sh` (and `make cluster-down`) stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$REPO_ROOT/hack/kueue/lib.sh"

pid_file="$CLUSTER_DIR/kueue.pid"
log="$CLUSTER_DIR/kueue.log"
certs="$KUEUE_DIR/certs"
healthy() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$KUEUE_HEALTH_PORT/readyz"; }
running() { [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

kc get --raw /readyz >/dev/null 2>&1 || die "the local cluster does not answer; run make cluster-up first"
"$REPO_ROOT/hack/kueue/kueue-build.sh"
module="$(kueue_module_dir)"
# The renderer needs PyYAML: the workspace's environment has it (make sync), else python3's.
python="$REPO_ROOT/.venv/bin/python"; [[ -x $python ]] || python=python3
"$python" -c 'import yaml' 2>/dev/null || die "$python lacks PyYAML: run make sync (or pip install pyyaml)"
mkdir -p "$KUEUE_DIR" "$certs"

if running && healthy && kc get validatingwebhookconfiguration aijob-local-kueue-validating >/dev/null 2>&1; then
  say "reusing Kueue $KUEUE_VERSION (pid $(cat "$pid_file")); webhooks on 127.0.0.1:$KUEUE_WEBHOOK_PORT"
  exit 0
fi
if running; then
  say "Kueue (pid $(cat "$pid_file")) is not healthy; restarting it"
  kill "$(cat "$pid_file")" 2>/dev/null || true
  for _ in $(seq 1 20); do running || break; sleep 0.5; done
fi
for port in "$KUEUE_WEBHOOK_PORT" "$KUEUE_HEALTH_PORT" "$KUEUE_METRICS_PORT"; do
  port_in_use "$port" && die "port $port (Kueue) is in use by another process; free it or set AIJOB_KUEUE_*_PORT"
done

# A CA and a serving certificate for 127.0.0.1, made once per cluster directory.
if [[ ! -f $certs/tls.crt || ! -f $certs/ca.crt ]]; then
  say "making the webhook's local CA and serving certificate ($certs)"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=aijob-local-kueue-ca" \
      -keyout "$certs/ca.key" -out "$certs/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$certs/tls.key" -out "$certs/tls.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$certs/ext.cnf"
    openssl x509 -req -in "$certs/tls.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" \
      -CAcreateserial -days 3650 -extfile "$certs/ext.cnf" -out "$certs/tls.crt" 2>/dev/null
  ) || die "openssl could not make the webhook certificates"
fi

# Kueue v0.17 reads its metrics server's certificate from a fixed path when its internal
# certificate management is off: the same local serving certificate goes there.
metrics_certs=/etc/kueue/metrics/certs
if ! cmp -s "$certs/tls.crt" "$metrics_certs/tls.crt" 2>/dev/null; then
  { mkdir -p "$metrics_certs" && install -m 600 "$certs/tls.crt" "$certs/tls.key" "$metrics_certs/"; } \
    || die "cannot write $metrics_certs (Kueue reads its metrics certificate there; run as root)"
fi

cat >"$KUEUE_DIR/config.yaml" <<YAML
# Written by hack/kueue/kueue-up.sh: the local Kueue's Configuration.
apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
namespace: kueue-system
health:
  healthProbeBindAddress: 127.0.0.1:$KUEUE_HEALTH_PORT
metrics:
  bindAddress: 127.0.0.1:$KUEUE_METRICS_PORT
webhook:
  host: 127.0.0.1
  port: $KUEUE_WEBHOOK_PORT
  certDir: $certs
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
manageJobsWithoutQueueName: false
integrations:
  frameworks:
  - batch/job
YAML

say "installing Kueue $KUEUE_VERSION's CRDs"
"$python" "$REPO_ROOT/hack/kueue/render.py" crds "$module/config/components/crd" "$certs/ca.crt" "$KUEUE_WEBHOOK_PORT" \
  | kc apply --server-side --force-conflicts -f - >/dev/null || die "the Kueue CRDs were not applied"
for _ in $(seq 1 60); do  # (a CRD just created has no conditions yet: kubectl wait refuses it)
  kc wait --for=condition=Established crd -l '!aijob.dev/none' --timeout=30s >/dev/null 2>&1 \
    && kc get workloads.kueue.x-k8s.io -A >/dev/null 2>&1 && break
  sleep 0.5
done
kc get workloads.kueue.x-k8s.io -A >/dev/null 2>&1 || die "the Kueue CRDs are not served"
kc create namespace kueue-system --dry-run=client -o yaml | kc apply -f - >/dev/null

say "starting Kueue on 127.0.0.1 (webhooks :$KUEUE_WEBHOOK_PORT, log $log)"
KUBECONFIG="$KUBECONFIG_PATH" setsid "$KUEUE_BIN" --config "$KUEUE_DIR/config.yaml" \
  --feature-gates=VisibilityOnDemand=false >"$log" 2>&1 </dev/null &
echo $! >"$pid_file"
for _ in $(seq 1 120); do
  healthy && break
  running || die "Kueue exited at start; see $log: $(tail -3 "$log" | tr '\n' ' ')"
  sleep 0.5
done
healthy || die "Kueue does not answer http://127.0.0.1:$KUEUE_HEALTH_PORT/readyz after 60s; see $log"
for _ in $(seq 1 60); do port_in_use "$KUEUE_WEBHOOK_PORT" && break; sleep 0.5; done

"$python" "$REPO_ROOT/hack/kueue/render.py" webhooks "$module/config/components/webhook/manifests.yaml" \
  "$certs/ca.crt" "$KUEUE_WEBHOOK_PORT" | kc apply -f - >/dev/null \
  || die "the Kueue webhook configurations were not applied"
# The webhook answers through the API server: a dry-run ResourceFlavor goes through it.
for _ in $(seq 1 60); do
  if kc apply --dry-run=server -f - >/dev/null 2>&1 <<'YAML'
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: aijob-kueue-up-probe}
YAML
  then ok=1; break; fi
  sleep 0.5
done
[[ ${ok:-} == 1 ]] || die "the API server cannot reach Kueue's webhook at 127.0.0.1:$KUEUE_WEBHOOK_PORT; see $log"
say "Kueue $KUEUE_VERSION ready (pid $(cat "$pid_file")); integrations: batch/job"
