"""PyTorch and transformers runners for the aijob worker: MLP, CNN, BERT-style text models.

Registered under the `aijob.runners` entry-point group in this package's
pyproject.toml. Nothing is ever downloaded: text models are built from a small
configuration with a tokenizer trained on the job's own data, or loaded from a
local model directory.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
