"""aijob's benchmarks, each a module run from the repository root, e.g.
`uv run --frozen python -m benchmarks.gateway_bench`; what they share is in
`benchmarks.support`."""
