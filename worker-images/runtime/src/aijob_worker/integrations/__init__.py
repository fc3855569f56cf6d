"""Zero-code progress for framework training loops (Keras, the transformers Trainer).

Each module imports its framework, so import only the one whose framework is
installed: `aijob_worker.integrations.keras`, `aijob_worker.integrations.transformers`.
"""
