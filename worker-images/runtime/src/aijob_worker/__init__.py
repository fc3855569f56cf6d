"""aijob worker runtime: runs one AIJob inside its pod and reports into its status.

The runtime reads the job contract (environment set by the operator), picks the
runner registered for the model type, trains or infers, writes progress,
checkpoints and results into the AIJob's status, and exits with a code the
operator understands (see `aijob_api.contract`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aijob-worker")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
