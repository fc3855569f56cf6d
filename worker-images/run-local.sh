#!/usr/bin/env bash
# Run a worker on this machine against the local cluster: the AIJob is created in the
# cluster, the worker runs as a process of its framework image's environment with the
# job's environment, and reports into the AIJob's status like a pod would.
#
#   worker-images/run-local.sh FRAMEWORK AIJOB.yaml [NAMESPACE]
#     FRAMEWORK  sklearn | pytorch | tensorflow (the image whose environment runs it)
#     AIJOB.yaml an AIJob manifest (examples/*.yaml); an AIJob of that name already in
#                the namespace is reused, so a second run resumes from its checkpoint
#     NAMESPACE  default: aijob-local (created when missing)
#
# Watch it from another terminal:  kubectl get aijobs -n aijob-local -w
# Environment: KUBECONFIG (default: the local cluster's .cluster/kubeconfig),
# AIJOB_LOCAL_ARTIFACTS (default: ~/.cache/aijob/artifacts), AIJOB_PROGRESS_INTERVAL_SECONDS
# (default 2). Ctrl-C sends SIGTERM to the worker: it checkpoints and exits 143.
set -euo pipefail

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -ge 2 && $# -le 3 ]] || usage
framework=$1 manifest=$2 namespace=${3:-aijob-local}
case "$framework" in sklearn | pytorch | tensorflow) ;; *) usage ;; esac
[[ -f $manifest ]] || { echo "run-local: no such manifest: $manifest" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export KUBECONFIG=${KUBECONFIG:-$repo/.cluster/kubeconfig}
[[ -f ${KUBECONFIG%%:*} ]] || { echo "run-local: no kubeconfig at $KUBECONFIG (make cluster-up)" >&2; exit 1; }
if ! command -v kubectl >/dev/null; then
  for candidate in "$HOME"/.cache/aijob/bin/k8s-*/kubectl; do
    [[ -x $candidate ]] && PATH="$(dirname "$candidate"):$PATH"
  done
fi
command -v kubectl >/dev/null || { echo "run-local: kubectl not found (make binaries)" >&2; exit 1; }

export UV_PYTHON_DOWNLOADS=never
echo "run-local: syncing the $framework environment from worker-images/$framework/uv.lock"
uv sync --project "$repo/worker-images/$framework" --frozen --quiet
python=$repo/worker-images/$framework/.venv/bin/python

if ! kubectl get crd aijobs.aijob.dev >/dev/null 2>&1; then
  echo "run-local: installing the AIJob CRD"
  kubectl apply --server-side --field-manager=aijob-run-local -f "$repo/crds/aijob.dev_aijobs.yaml"
  kubectl wait --for=condition=Established crd/aijobs.aijob.dev --timeout=60s
fi
kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"

name=$(kubectl create --dry-run=client -f "$manifest" -o jsonpath='{.metadata.name}')
if kubectl get aijob "$name" -n "$namespace" >/dev/null 2>&1; then
  echo "run-local: reusing AIJob $namespace/$name (a checkpoint in its status is resumed)"
else
  kubectl create -n "$namespace" -f "$manifest"
fi
job_json=$(kubectl get aijob "$name" -n "$namespace" -o json)

artifacts=${AIJOB_LOCAL_ARTIFACTS:-$HOME/.cache/aijob/artifacts}
workdir=$(mktemp -d "${TMPDIR:-/tmp}/aijob-run-local.XXXXXX")
trap 'rm -rf "$workdir"' EXIT
eval "$("$python" - "$job_json" "$namespace" "$artifacts" "$workdir" <<'PY'
import json, pathlib, shlex, sys
job, namespace, artifacts = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
from aijob_api.delivery import spec_document
from aijob_api.models import AIJobSpec
spec = AIJobSpec.model_validate(job["spec"])
name = job["metadata"]["name"]
# The spec as a file, as the pod's downwardAPI volume holds it.
spec_file = pathlib.Path(sys.argv[4]) / "spec.json"
spec_file.write_text(spec_document(spec.model_dump(mode="json", by_alias=True, exclude_none=True)))
values = {
    "AIJOB_NAME": name,
    "AIJOB_NAMESPACE": namespace,
    "AIJOB_UID": job["metadata"]["uid"],
    "AIJOB_POD_NAME": f"{name}-local",
    "AIJOB_SPEC_FILE": str(spec_file),
    "AIJOB_FRAMEWORK": spec.resolved_framework.value,
    "AIJOB_ARTIFACT_URI": f"file://{artifacts}/{namespace}/{name}",
}
for key, value in values.items():
    print(f"export {key}={shlex.quote(value)}")
PY
)"
export AIJOB_PROGRESS_INTERVAL_SECONDS=${AIJOB_PROGRESS_INTERVAL_SECONDS:-2}
export AIJOB_TERMINATION_MESSAGE_PATH=$workdir/termination-log
if [[ $AIJOB_FRAMEWORK != "$framework" && ! ($AIJOB_FRAMEWORK == transformers && $framework == pytorch) ]]; then
  echo "run-local: note: $name routes to the $AIJOB_FRAMEWORK image; running it on $framework"
fi

echo "run-local: running $name on the $framework worker (artifacts: $AIJOB_ARTIFACT_URI)"
echo "run-local: watch it with: kubectl get aijobs -n $namespace -w"
"$python" -m aijob_worker &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null || true' INT TERM
set +e
wait "$worker"; code=$?
# A signal interrupts the first wait; wait again for the worker's own exit code.
if kill -0 "$worker" 2>/dev/null; then wait "$worker"; code=$?; fi
set -e
echo "run-local: worker exited with $code"
kubectl get aijob "$name" -n "$namespace" \
  -o jsonpath='{"progress: "}{.status.progress}{"\nresults: "}{.status.results.metrics}{"\nmodel: "}{.status.results.modelUri}{"\n"}'
exit "$code"
