#!/usr/bin/env bash
# The main job, end to end on this machine, in one command (`make demo`):
#   1. the local cluster up, with its real node (control plane binaries cached), and the
#      images the demo needs built alongside and imported into the node (cached by content);
#   2. the Helm chart installed in aijob-system with helm/aijob/values-local.yaml;
#   3. an API key minted for the tenant namespace `demo`, the gateway reached through
#      `kubectl port-forward` (the real kubelet streams it);
#   4. a scikit-learn training job submitted over REST (examples/rest/train-sklearn.json)
#      and a PyTorch one with `kubectl apply -f examples/train-pytorch.yaml`, their
#      progress shown live until both succeed;
#   5. an inference job on the trained forest (examples/rest/predict-sklearn.json), its
#      predictions and stage timings printed.
# Every step says what to do when it fails. Re-running replaces the demo's jobs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RELEASE=aijob
SYSTEM_NS=aijob-system
TENANT=demo
ARTIFACTS_DIR=/var/lib/aijob/artifacts
JOB_TIMEOUT_SECONDS="${AIJOB_DEMO_TIMEOUT:-1200}"
START=$SECONDS
PF_PID=""

step() { printf '\n\033[1m[demo %3ds] %s\033[0m\n' "$((SECONDS - START))" "$*"; }
fail() { printf '[demo] ERROR: %s\n[demo] what to do: %s\n' "$1" "$2" >&2; exit 1; }
cleanup() { [[ -z $PF_PID ]] || kill "$PF_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

step "1/5 local cluster with its real node, and the images (built alongside; cold, this is the long step)"
AIJOB_REAL_NODE=1 "$REPO_ROOT/hack/cluster-with-images.sh" base pause operator gateway worker-sklearn worker-pytorch \
  || fail "the cluster or an image did not come up" "read the message above (an image's build log is named there); 'make cluster-down' then 'make demo' starts clean"
kc wait --for=condition=Ready node -l aijob.dev/real-node=true --timeout=120s >/dev/null \
  || fail "no Ready node labelled aijob.dev/real-node" "make node-up (hack/node/node-up.sh) names what the machine lacks"
kc get nodes -o custom-columns='NODE:.metadata.name,GPUS:.status.allocatable.nvidia\.com/gpu,RUNTIME:.status.nodeInfo.containerRuntimeVersion'
# Workers run as a non-root user and keep their models on the node (hostPath); a
# sticky, world-writable directory like /tmp lets any job's user create its own files.
install -d -m 1777 "$ARTIFACTS_DIR"
rm -rf "${ARTIFACTS_DIR:?}/$TENANT"   # the previous run's models: re-runs start clean

step "2/5 helm upgrade --install $RELEASE (namespace $SYSTEM_NS)"
kc create namespace "$TENANT" --dry-run=client -o yaml | kc apply -f - >/dev/null
helm upgrade --install "$RELEASE" "$REPO_ROOT/helm/aijob" --kubeconfig "$KUBECONFIG_PATH" \
  --namespace "$SYSTEM_NS" --create-namespace -f "$REPO_ROOT/helm/aijob/values-local.yaml" \
  --set "operator.watchNamespaces={$TENANT}" --wait --timeout 5m >/dev/null \
  || fail "the chart did not become Ready" "kubectl -n $SYSTEM_NS get pods; kubectl -n $SYSTEM_NS describe pods"
kc -n "$SYSTEM_NS" get pods -o wide -l "app.kubernetes.io/instance=$RELEASE" --field-selector=status.phase=Running
kc -n "$TENANT" delete aijobs --all --wait=true >/dev/null

step "3/5 API key for tenant '$TENANT', gateway through kubectl port-forward"
API_KEY=$(kc -n "$SYSTEM_NS" exec "deploy/$RELEASE-gateway" -- \
  python -m aijob_gateway.keys create --tenant "$TENANT" 2>/dev/null | head -1)
[[ $API_KEY == aij_* ]] || fail "no API key was minted" "kubectl -n $SYSTEM_NS logs deploy/$RELEASE-gateway"
PORT="${AIJOB_DEMO_PORT:-18000}"
while port_in_use "$PORT"; do PORT=$((PORT + 1)); done
# kubectl itself in the background (not the kc function, whose subshell would get the pid).
"$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_PATH" -n "$SYSTEM_NS" port-forward \
  "svc/$RELEASE-gateway" "$PORT:80" >"$CLUSTER_DIR/demo-port-forward.log" 2>&1 &
PF_PID=$!
GATEWAY="http://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -fsS "$GATEWAY/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$GATEWAY/readyz" >/dev/null || fail "the gateway does not answer on $GATEWAY" "see $CLUSTER_DIR/demo-port-forward.log"
echo "gateway: $GATEWAY   key: ${API_KEY:0:17}... (tenant $TENANT)"

post_job() {  # post_job FILE: POST /v1/jobs, print the answer's name and HTTP status
  local code
  code=$(curl -sS -o "$CLUSTER_DIR/demo-response.json" -w '%{http_code}' -X POST "$GATEWAY/v1/jobs" \
    -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' -d @"$1")
  [[ $code == 20? ]] || fail "POST /v1/jobs answered $code: $(cat "$CLUSTER_DIR/demo-response.json")" "check the body in $1"
  echo "POST /v1/jobs $(basename "$1") -> $code"
}

wait_jobs() {  # wait_jobs NAME...: print the jobs whenever they change, until all are final
  local deadline=$((SECONDS + JOB_TIMEOUT_SECONDS)) last="" now phases
  while :; do
    now=$(kc -n "$TENANT" get aijobs "$@" --no-headers \
      -o custom-columns='NAME:.metadata.name,PHASE:.status.phase,PROGRESS:.status.progress.percent,EPOCH:.status.progress.epoch,STAGE:.status.progress.stage,NODE:.status.nodeName' 2>/dev/null || true)
    if [[ $now != "$last" ]]; then printf '[demo %3ds]\n%s\n' "$((SECONDS - START))" "$now"; last=$now; fi
    phases=$(kc -n "$TENANT" get aijobs "$@" --no-headers -o custom-columns='PHASE:.status.phase' 2>/dev/null | tr '\n' ' ' || true)
    if [[ $phases == *Failed* || $phases == *Cancelled* ]]; then
      fail "a job did not succeed" "kubectl -n $TENANT describe aijob $*; kubectl -n $TENANT logs -l aijob.dev/job-name --tail=20"
    fi
    [[ $(wc -w <<<"$phases") -eq $# && $(grep -o Succeeded <<<"$phases" | wc -l) -eq $# ]] && return 0
    ((SECONDS < deadline)) || fail "jobs still running after ${JOB_TIMEOUT_SECONDS}s" "kubectl -n $TENANT get aijobs,pods -o wide"
    sleep 2
  done
}

step "4/5 training: scikit-learn over REST, PyTorch with kubectl apply"
post_job "$REPO_ROOT/examples/rest/train-sklearn.json"
kc -n "$TENANT" apply -f "$REPO_ROOT/examples/train-pytorch.yaml"
wait_jobs iris-forest digits-mlp
kc -n "$TENANT" get aijobs iris-forest digits-mlp \
  -o custom-columns='NAME:.metadata.name,FRAMEWORK:.status.framework,ACCURACY:.status.results.metrics.accuracy,MODEL:.status.results.modelUri'

step "5/5 inference on the forest trained moments ago"
post_job "$REPO_ROOT/examples/rest/predict-sklearn.json"
wait_jobs iris-forest-predict
curl -fsS "$GATEWAY/v1/jobs/iris-forest-predict" -H "Authorization: Bearer $API_KEY" | python3 -c '
import json, sys
job = json.load(sys.stdin)
results = job["status"]["results"]
records = job["spec"]["input"]["records"]
print("predictions:")
for record, output in zip(records, results["outputs"]):
    label, confidence = output["prediction"], output["confidence"]
    print(f"  {record} -> {label:<11} confidence {confidence:.3f}")
timings = {k.removesuffix("Ms"): v for k, v in results["timings"].items() if v is not None}
print("stage timings (ms):", ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
'
printf '\n[demo] first prediction %ds after start\n' "$((SECONDS - START))"
cat <<EOF

What next:
  export KUBECONFIG=$KUBECONFIG_PATH PATH=$BIN_DIR:\$PATH
  kubectl -n $TENANT get aijobs                       # the three jobs
  kubectl -n $SYSTEM_NS port-forward svc/$RELEASE-gateway 8000:80   # the REST API, /docs
Stop it all:
  helm uninstall $RELEASE -n $SYSTEM_NS; kubectl delete namespace $TENANT
  make cluster-down                                   # the cluster, its real node and every process
EOF
