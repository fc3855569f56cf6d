#!/usr/bin/env bash
# The main job, end to end on this machine, in one command (`make demo`):
#   1. the local cluster up, with its real node (control plane binaries cached), and the
#      images the first prediction needs built alongside and imported into the node (cached
#      by content); the PyTorch image (3 GB of CUDA wheels) builds at the lowest CPU priority
#      once the base image exists, so it never slows the critical path;
#   2. the Helm chart installed in aijob-system with helm/aijob/values-local.yaml;
#   3. an API key minted for the tenant namespace `demo`; the gateway kept reachable on
#      127.0.0.1 (a supervised `kubectl port-forward` that lives until `make cluster-down`);
#      everything a user needs next written to .cluster/env;
#   4. a scikit-learn training job submitted over REST (examples/rest/train-sklearn.json),
#      its progress shown live until it succeeds;
#   5. an inference job on the trained forest (examples/rest/predict-sklearn.json), its
#      predictions and stage timings printed (the "first prediction");
#   6. a PyTorch job with `kubectl apply -f examples/train-pytorch.yaml`, once its image is in;
#   7. the forest served warm: examples/endpoint-sklearn.yaml (applied right after the first
#      prediction, so its replicas load meanwhile), Ready, and a few live predictions through
#      the gateway with their latency.
# Every step says what to do when it fails. Re-running replaces the demo's jobs and endpoint.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/node/lib.sh"

RELEASE=aijob
SYSTEM_NS=aijob-system
TENANT=demo
JOB_TIMEOUT_SECONDS="${AIJOB_DEMO_TIMEOUT:-1200}"
ENV_FILE="$CLUSTER_DIR/env"
START=$SECONDS
LATER_PID=""
SYNC_PID=""

step() { printf '\n\033[1m[demo %3ds] %s\033[0m\n' "$((SECONDS - START))" "$*"; }
fail() { printf '[demo] ERROR: %s\n[demo] what to do: %s\n' "$1" "$2" >&2; exit 1; }
cleanup() {
  local pid
  for pid in $LATER_PID $SYNC_PID; do kill -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
mkdir -p "$CLUSTER_DIR"

# The PyTorch image is not on the path to the first prediction: it builds at nice 19 (its
# own process group) as soon as the base image exists, while the control plane compiles.
setsid nice -n 19 "$REPO_ROOT/hack/images/build.sh" --after-base worker-pytorch \
  >"$CLUSTER_DIR/images-later.log" 2>&1 &
LATER_PID=$!
# The workspace environment (the CLI the README uses), also at the lowest priority.
setsid nice -n 19 make -s -C "$REPO_ROOT" sync >"$CLUSTER_DIR/demo-sync.log" 2>&1 &
SYNC_PID=$!

step "1/7 local cluster with its real node, and the images (built alongside; cold, this is the long step)"
AIJOB_REAL_NODE=1 "$REPO_ROOT/hack/cluster-with-images.sh" base pause operator gateway worker-sklearn \
  || fail "the cluster or an image did not come up" "read the message above (an image's build log is named there); 'make cluster-down' then 'make demo' starts clean"
kc wait --for=condition=Ready node -l aijob.dev/real-node=true --timeout=120s >/dev/null \
  || fail "no Ready node labelled aijob.dev/real-node" "make node-up (hack/node/node-up.sh) names what the machine lacks"
kc get nodes -o custom-columns='NODE:.metadata.name,GPUS:.status.allocatable.nvidia\.com/gpu,RUNTIME:.status.nodeInfo.containerRuntimeVersion'

step "2/7 tenants '$TENANT' and 'default' (a bucket, S3 user and Secret each), then helm upgrade --install $RELEASE (namespace $SYSTEM_NS)"
# The tenant's own store on the cluster's MinIO: the admin command needs the workspace.
[[ -z $SYNC_PID ]] || wait "$SYNC_PID" || { SYNC_PID=""; fail "make sync failed" "read $CLUSTER_DIR/demo-sync.log"; }
SYNC_PID=""
# `default` too: the README's `kubectl apply -f examples/...` lands there (the operator
# watches it), and a job's pod needs its namespace's store Secret (Pod Security left as is).
(set -a && source "$MINIO_ENV" && set +a && export KUBECONFIG="$KUBECONFIG_PATH" \
  && "$REPO_ROOT/.venv/bin/python" -m aijob_operator.tenants add "$TENANT" --pod-security restricted \
  && "$REPO_ROOT/.venv/bin/python" -m aijob_operator.tenants add default) \
  || fail "a tenant's store could not be made" "is MinIO up? hack/minio/minio-up.sh; .cluster/minio.log"
# helm installs a chart's CRDs only when they are missing: an upgrade would keep older ones.
kc apply --server-side --force-conflicts -f "$REPO_ROOT/helm/aijob/crds/" >/dev/null
helm upgrade --install "$RELEASE" "$REPO_ROOT/helm/aijob" --kubeconfig "$KUBECONFIG_PATH" \
  --namespace "$SYSTEM_NS" --create-namespace -f "$REPO_ROOT/helm/aijob/values-local.yaml" \
  --wait --timeout 5m >/dev/null \
  || fail "the chart did not become Ready" "kubectl -n $SYSTEM_NS get pods; kubectl -n $SYSTEM_NS describe pods"
kc -n "$SYSTEM_NS" get pods -o wide -l "app.kubernetes.io/instance=$RELEASE" --field-selector=status.phase=Running
kc -n "$TENANT" delete aiendpoints,aijobs --all --wait=true >/dev/null

step "3/7 API key for tenant '$TENANT'; the gateway kept reachable on 127.0.0.1"
API_KEY=$(kc -n "$SYSTEM_NS" exec "deploy/$RELEASE-gateway" -- \
  python -m aijob_gateway.keys create --tenant "$TENANT" 2>/dev/null | head -1)
[[ $API_KEY == aij_* ]] || fail "no API key was minted" "kubectl -n $SYSTEM_NS logs deploy/$RELEASE-gateway"
GATEWAY=$("$REPO_ROOT/hack/gateway-forward.sh" "$SYSTEM_NS" "$RELEASE-gateway" "${AIJOB_DEMO_PORT:-18000}") \
  || fail "the gateway does not answer on 127.0.0.1" "see $CLUSTER_DIR/gateway-forward.log"
(
  umask 077
  cat >"$ENV_FILE" <<EOF
# Written by make demo: source it to use the demo's cluster (kubectl, helm, the aijob CLI).
export KUBECONFIG='$KUBECONFIG_PATH'
export PATH='$BIN_DIR:$HOME/.local/bin':"\$PATH"
export AIJOB_GATEWAY_URL='$GATEWAY'
export AIJOB_API_KEY='$API_KEY'
EOF
)
echo "gateway: $GATEWAY   tenant: $TENANT   key and settings: $ENV_FILE (source it)"

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

step "4/7 training scikit-learn over REST"
post_job "$REPO_ROOT/examples/rest/train-sklearn.json"
wait_jobs iris-forest
kc -n "$TENANT" get aijobs iris-forest \
  -o custom-columns='NAME:.metadata.name,FRAMEWORK:.status.framework,ACCURACY:.status.results.metrics.accuracy,MODEL:.status.results.modelUri'

step "5/7 inference on the forest trained moments ago"
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
# Step 7's endpoint starts now: its two replicas (250m each) load the forest while PyTorch trains.
kc -n "$TENANT" apply -f "$REPO_ROOT/examples/endpoint-sklearn.yaml"

step "6/7 PyTorch with kubectl apply (its image built at low priority meanwhile)"
if ! wait "$LATER_PID"; then
  LATER_PID=""
  sed 's/^/    /' "$CLUSTER_DIR/images-later.log"
  fail "the PyTorch image did not build" "read $CLUSTER_DIR/images-later.log; make images retries it"
fi
LATER_PID=""
kc -n "$TENANT" apply -f "$REPO_ROOT/examples/train-pytorch.yaml"
wait_jobs digits-mlp
kc -n "$TENANT" get aijobs digits-mlp \
  -o custom-columns='NAME:.metadata.name,FRAMEWORK:.status.framework,ACCURACY:.status.results.metrics.accuracy,MODEL:.status.results.modelUri'

step "7/7 the forest served warm (examples/endpoint-sklearn.yaml): live predictions through the gateway"
kc -n "$TENANT" wait --for=jsonpath='{.status.phase}'=Ready aiendpoint/iris --timeout=300s >/dev/null \
  || fail "the endpoint iris is not Ready: $(kc -n "$TENANT" get aiendpoint iris -o jsonpath='{.status.phase}: {.status.message}')" \
          "kubectl -n $TENANT describe aiendpoint iris; kubectl -n $TENANT get pods -l aijob.dev/endpoint=iris"
kc -n "$TENANT" get aiendpoints iris
python3 - "$GATEWAY" "$API_KEY" <<'PREDICT' || fail "a live prediction failed" "kubectl -n $TENANT describe aiendpoint iris; kubectl -n $SYSTEM_NS logs deploy/$RELEASE-gateway --tail=20"
import json, sys, time, urllib.request
gateway, key = sys.argv[1:3]
records = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5], [4.6, 3.1, 1.5, 0.2]]
print("live predictions (POST /v1/endpoints/iris/infer, one record each; latency as this shell sees it):")
for record in records:
    request = urllib.request.Request(
        f"{gateway}/v1/endpoints/iris/infer", data=json.dumps({"records": [record]}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    latency_ms = (time.perf_counter() - started) * 1000
    output = answer["outputs"][0]
    print(f"  {record} -> {output['prediction']:<11} confidence {output['confidence']:.3f}"
          f"  {latency_ms:5.1f} ms (model {answer['timings']['inferMs']:.1f} ms, replica {answer['pod']})")
PREDICT

[[ -z $SYNC_PID ]] || wait "$SYNC_PID" || { SYNC_PID=""; fail "make sync failed" "read $CLUSTER_DIR/demo-sync.log"; }
SYNC_PID=""
printf '\n[demo] done in %ds\n' "$((SECONDS - START))"
cat <<EOF

What next (README, "Using it"):
  source .cluster/env            # KUBECONFIG, PATH, AIJOB_GATEWAY_URL=$GATEWAY, AIJOB_API_KEY
  kubectl -n $TENANT get aijobs    # the demo's three jobs
  uv run aijob list              # the same through the gateway and the CLI
  uv run aijob predict iris --record '[5.1, 3.5, 1.4, 0.2]'   # the warm endpoint (kubectl -n $TENANT get aiendpoints)
The gateway stays at $GATEWAY (OpenAPI at $GATEWAY/docs) until make cluster-down.
Stop it all:
  make cluster-down              # the cluster, its real node, the gateway forward and every process
EOF
