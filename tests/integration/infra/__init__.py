"""Infrastructure tests: prove the local cluster's floor is real (scheduler, GPUs, Jobs, CRDs)."""
