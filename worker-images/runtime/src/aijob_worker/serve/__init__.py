"""Serve mode: `aijob-worker serve` answers predictions over HTTP from a model loaded once.

The same image that trains and runs inference jobs serves a saved model warm:
it loads the model once through the runner contract (`load`, then `prepare`,
`infer`, `postprocess` per batch, as inference jobs do), batches concurrent
requests, and answers the Open Inference Protocol (KServe V2) and a plain JSON
route. The contract for the operator and the gateway is docs/serving.md.

Modules: `config` (settings), `model` (loading, batches), `batcher`
(micro-batching), `signature`, `protocol`, `tensors`, `v2` (the V2 mapping),
`app` and `http` (routes), `lifecycle` (readiness, drain), `metrics`, `faults`
(test-only failure injection), `server` (process), `testing` (test helpers).
"""
