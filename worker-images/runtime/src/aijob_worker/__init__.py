"""aijob worker runtime: runs one AIJob inside its pod and reports into its status.

The runtime reads the job contract (environment set by the operator), picks the
runner registered for the model type, trains or infers, writes progress,
checkpoints and results into the AIJob's status, and exits with a code the
operator understands (see `aijob_api.contract`).

Your own training code (`spec.code`) imports its API from here: `report`,
`checkpoint_dir`, `save_checkpoint`, `latest_checkpoint`, `model_dir`, `save_model`,
`output_dir`, `hyperparameters`, `stop_requested` (`aijob_worker.script_api`).
"""

from importlib.metadata import PackageNotFoundError, version

__version__: str
try:
    __version__ = version("aijob-worker")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    __version__ = "0.0.0"

# After __version__: the API's modules read it while they are imported.
from aijob_worker.script_api import (
    checkpoint_dir,
    hyperparameters,
    latest_checkpoint,
    model_dir,
    output_dir,
    report,
    save_checkpoint,
    save_model,
    stop_requested,
)

__all__ = [
    "__version__",
    "checkpoint_dir",
    "hyperparameters",
    "latest_checkpoint",
    "model_dir",
    "output_dir",
    "report",
    "save_checkpoint",
    "save_model",
    "stop_requested",
]
