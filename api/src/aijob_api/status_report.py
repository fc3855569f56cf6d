"""The status channel's wire contract: what a worker reports to the operator, and the answer.

Workers hold no Kubernetes credentials. A worker sends its facts (progress, results, the
last checkpoint, metric history, a rank's progress: its share of the status, see
`aijob_api.status`) and, at the end, how its attempt ended, to the operator's HTTPS
endpoint with a projected ServiceAccount token bound to its pod and to aijob's audience.
The operator checks the token (TokenReview), that the pod belongs to the AIJob the report
names (owner chain and uids), the rate, and writes the status itself; the phase is always
the operator's decision, never reported.

Routes (the operator's status server, `STATUS_PATH_PREFIX`):
- `POST /v1/reports/{namespace}/{name}`: a `StatusReport`; `200` with a `ReportAnswer`
  once accepted (a final report only once written), `401` (no, bad or expired token,
  another audience), `403` (a pod that is not this AIJob's), `404` (no such AIJob),
  `409` (the AIJob was re-created: its uid differs; no later report can land either),
  `413` (over `MAX_REPORT_BYTES`), `422` (malformed, or a part the worker does not own),
  `429` (over the pod's rate; `Retry-After` says when), `503` (not the leader, or the API
  server is unreachable: try again).
- `GET /v1/reports/{namespace}/{name}`: the worker's share as the status holds it now
  (a restarted attempt resumes from its checkpoint and metric history), same checks.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from aijob_api.metric_history import MetricHistory
from aijob_api.status import MAX_STATUS_RANKS, Checkpoint, Progress, Results
from aijob_api.wire import WireModel

STATUS_AUDIENCE: Final = "aijob.dev/status"
"""The audience of the workers' projected tokens; the operator accepts no other."""
STATUS_PATH_PREFIX: Final = "/v1/reports"
"""Where the operator's status server takes reports: `<prefix>/<namespace>/<name>`."""
MAX_REPORT_BYTES: Final = 256 * 1024
"""The largest report body accepted (the status itself is capped well below)."""
TOKEN_MOUNT_DIR: Final = "/var/run/secrets/aijob.dev/status"  # noqa: S105 - a path
"""Where a worker pod's projected token volume is mounted (the token in `TOKEN_FILE_NAME`)."""
TOKEN_FILE_NAME: Final = "token"  # noqa: S105 - a file name
TOKEN_EXPIRATION_SECONDS: Final = 3600
"""The projected token's lifetime (the kubelet renews it at 80%)."""

# Environment variables the operator sets on a worker container for the channel.
ENV_STATUS_URL: Final = "AIJOB_STATUS_URL"
"""The operator's status server, `https://<host>:<port>`; unset: the worker reports nowhere
but its local results file (offline runs)."""
ENV_STATUS_TOKEN_FILE: Final = "AIJOB_STATUS_TOKEN_FILE"  # noqa: S105 - a name
"""The projected token's file (re-read before each report: the kubelet rotates it)."""
ENV_STATUS_CA: Final = "AIJOB_STATUS_CA"
"""The PEM of the CA that signed the status server's certificate (inline: no object to
write per namespace)."""
ENV_STATUS_SERVER_NAME: Final = "AIJOB_STATUS_SERVER_NAME"
"""The name the worker checks the server's certificate against (the Service's DNS name),
when the URL holds an address (clusters without DNS for Services)."""


class WorkerStatusParts(WireModel):
    """The worker's share of the AIJob's status, each part replaced whole when present.

    `ranks` is the exception: each entry given replaces only that rank's entry. A unit test
    holds these fields equal to `status_fields(StatusOwner.WORKER)`.
    """

    progress: Progress | None = None
    results: Results | None = None
    checkpoint: Checkpoint | None = None
    metric_history: MetricHistory | None = None
    ranks: Annotated[dict[str, Progress] | None, Field(max_length=MAX_STATUS_RANKS)] = None


class AttemptOutcome(WireModel):
    """How the worker's attempt ended, as the worker saw it (the operator still decides)."""

    exit_code: Annotated[int, Field(ge=0, le=255)]
    message: Annotated[str, Field(max_length=4096)] = ""


class StatusReport(WireModel):
    """One report from a worker pod."""

    uid: Annotated[str, Field(min_length=1, max_length=64, description="The AIJob's uid.")]
    pod: Annotated[
        str, Field(min_length=1, max_length=253, description="The reporting pod's name.")
    ]
    sequence: Annotated[
        int,
        Field(ge=0, description="Per pod, rising; an older report than one written is dropped."),
    ]
    final: Annotated[
        bool,
        Field(description="The attempt's last report: written at once, never coalesced."),
    ] = False
    status: WorkerStatusParts = WorkerStatusParts()
    outcome: AttemptOutcome | None = None


class ReportAnswer(WireModel):
    """The operator's answer to an accepted report."""

    sequence: Annotated[int, Field(ge=0, description="The report's sequence, acknowledged.")]
    written: Annotated[
        bool,
        Field(description="Written into the status already (False: coalesced, written soon)."),
    ]
