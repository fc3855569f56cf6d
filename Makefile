# aijob: every task of the project. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
# `make tools` installs uv with pip --user: every recipe (and what it starts) finds it there.
export PATH := $(HOME)/.local/bin:$(PATH)
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
# Every generated CRD, in crds/ and in the chart (each file is named after its resource).
CRD := crds/aijob.dev_aijobs.yaml crds/aijob.dev_aiendpoints.yaml
CHART_CRD := $(CRD:crds/%=helm/aijob/crds/%)
PYTEST := $(UV) run --frozen pytest
WORKER_PROJECTS := runtime sklearn pytorch tensorflow
# Where import-linter finds the worker packages (worker-images/.importlinter).
WORKER_SOURCES := $(shell echo $(WORKER_PROJECTS:%=worker-images/%/src) | tr ' ' :)
# The local cluster (and the images its real node runs) is used unless KUBECONFIG names another;
# there every suite must run: `make test` fails any skip (--no-env-skips, tests/support/no_env_skips.py).
LOCAL_CLUSTER := $(if $(KUBECONFIG),,yes)

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: tools
tools: ## Install uv (from PyPI) if it is missing
	@command -v uv >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/uv" ] || python3 -m pip install --user --quiet "uv==$(UV_VERSION)"

.PHONY: sync
sync: tools ## Create the workspace virtualenv from uv.lock
	$(UV) sync --frozen $(if $(filter kind,$(AIJOB_TEST_CLUSTER)),--group kind)

.PHONY: generate
generate: sync ## Regenerate the CRDs (and the chart's copies) from the API models
	$(UV) run --frozen aijob-generate-crd $(CRD) $(CHART_CRD)

.PHONY: verify
verify: sync ## Fail when generated files are stale
	$(UV) run --frozen aijob-generate-crd --check $(CRD) $(CHART_CRD)

.PHONY: lint
lint: sync ## ruff (lint and format check) and the import-layer contracts (workers' too)
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports
	PYTHONPATH=$(WORKER_SOURCES) $(UV) run --frozen lint-imports --config worker-images/.importlinter

.PHONY: typecheck
typecheck: sync worker-envs ## mypy --strict over every package and the tests; each worker project in its own env
	$(UV) run --frozen mypy api/src kube/src operator/src gateway/src cli/src tests
	@for project in $(WORKER_PROJECTS); do \
		echo "[typecheck] worker-images/$$project (its [tool.mypy] files)"; \
		$(UV) run --quiet --frozen --directory worker-images/$$project $$([ $$project = runtime ] && echo --all-extras) mypy || exit 1; \
	done

.PHONY: demo
demo: tools ## The main job: local cluster up, then aijob end to end on it
	hack/demo.sh

.PHONY: readme-check
readme-check: ## Run the README's "Using it" blocks verbatim, as a new user would after make demo
	hack/check-readme.sh

.PHONY: binaries
binaries: ## Build the control plane's binaries from Go modules (cached)
	hack/build-binaries.sh

.PHONY: cluster-up
cluster-up: ## Start the local cluster (builds binaries on first use)
	hack/cluster-up.sh

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and everything it started
	hack/cluster-down.sh

.PHONY: kueue-up
kueue-up: ## Add Kueue (built from its Go module, cached) to the running local cluster
	hack/kueue/kueue-up.sh

.PHONY: kueue-down
kueue-down: ## Stop the local cluster's Kueue (its webhooks first)
	hack/kueue/kueue-down.sh

.PHONY: node-up
node-up: ## Add the real kubelet node to the running local cluster
	hack/node/node-up.sh

.PHONY: node-down
node-down: ## Remove the real node (containerd, kubelet, kube-proxy, mounts)
	hack/node/node-down.sh

.PHONY: images
images: ## Build every image here with buildah (cached per content hash) and import it into the node
	hack/images/build.sh

.PHONY: worker-envs
worker-envs: tools ## Create each worker image's own virtualenv from its uv.lock
	@for project in $(WORKER_PROJECTS); do \
		echo "[worker-envs] $$project"; \
		$(UV) sync --quiet --frozen --project worker-images/$$project $$([ $$project = runtime ] && echo --all-extras) || exit 1; \
	done

.PHONY: test-workers
test-workers: worker-envs ## Each worker image's own suite, in its own environment
	@for project in $(WORKER_PROJECTS); do \
		echo "[test-workers] $$project"; \
		$(UV) run --frozen --project worker-images/$$project $$([ $$project = runtime ] && echo --all-extras) pytest worker-images/$$project/tests || exit 1; \
	done

.PHONY: gateway-run
gateway-run: sync ## Run the gateway locally against $$KUBECONFIG (port 8000)
	$(UV) run --frozen python -m aijob_gateway

.PHONY: gateway-key
gateway-key: sync ## Mint an API key for a tenant namespace: make gateway-key TENANT=team-a
	@test -n "$(TENANT)" || { echo "usage: make gateway-key TENANT=<namespace>"; exit 2; }
	$(UV) run --frozen python -m aijob_gateway.keys create --tenant $(TENANT)

.PHONY: bench-gateway
bench-gateway: sync ## Benchmark the gateway vs bare FastAPI and direct lightkube
	$(UV) run --frozen python -m benchmarks.gateway_bench

.PHONY: bench-inference
bench-inference: sync ## Benchmark online inference on the real node: gateway vs pod vs AIJob, batching, priorities
	$(UV) run --frozen python -m benchmarks.inference_bench

.PHONY: test-unit
test-unit: sync ## Unit tests (no cluster)
	$(PYTEST) -m unit

.PHONY: test-integration
test-integration: sync ## Integration tests against a real API server
	$(PYTEST) -m integration

.PHONY: test-e2e
test-e2e: sync ## The chart on the real node, jobs through the gateway
	$(PYTEST) -m e2e

.PHONY: helm-lint
helm-lint: ## helm lint --strict with the default and the local values
	$(HOME)/.cache/aijob/bin/k8s-v1.36.3/helm lint --strict helm/aijob
	$(HOME)/.cache/aijob/bin/k8s-v1.36.3/helm lint --strict helm/aijob -f helm/aijob/values-local.yaml

.PHONY: test
test: sync verify lint typecheck worker-envs ## Everything CI runs: checks, every worker suite, then every suite on a real cluster
	$(MAKE) test-workers
	$(if $(LOCAL_CLUSTER),hack/cluster-with-images.sh)
	$(if $(LOCAL_CLUSTER),hack/kueue/kueue-up.sh)
	$(if $(LOCAL_CLUSTER),hack/demo.sh)
	$(if $(LOCAL_CLUSTER),hack/check-readme.sh)
	$(PYTEST) $(if $(LOCAL_CLUSTER),--no-env-skips)
