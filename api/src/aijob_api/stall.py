"""Stalls: how long a job's worker may go without reporting (`spec.stall`), and what the
operator did about it (`status.stall`).

A worker reports progress into the status; `status.progress.updatedAt` is the time of
its last report. The clock of an attempt starts when its worker container runs (so
scheduling and image pulls never count); until the attempt's first report the worker
also gets `startupGraceSeconds` (imports, dataset download and loading). A job whose
worker stays silent for longer than `reportTimeoutSeconds` gets the `Stalled` condition
and a Warning Event naming the last report's time; once `restartAfterSeconds` have
passed, the operator evicts the pod (the Job sees a disruption and starts a new pod at
once, without back-off) and counts it in `status.stall.restarts`. A stall restart
spends one of `spec.retryPolicy.maxRetries`: when failed attempts and stall restarts
have used them all, the job fails with reason `Stalled` instead. A limit left out
comes from the runtime catalog, then from the operator's settings.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import ConfigDict, Field, model_validator

from aijob_api.wire import WireModel

MAX_STALL_SECONDS: Final = 7 * 24 * 3600
"""The longest limit one may set (a week, as spec.timeoutSeconds)."""


class StallPolicy(WireModel):
    """How long the worker may go without reporting; left out: the runtime's defaults."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": (
                        "!has(self.reportTimeoutSeconds) || !has(self.restartAfterSeconds) || "
                        "self.restartAfterSeconds > self.reportTimeoutSeconds"
                    ),
                    "message": "restartAfterSeconds must be greater than reportTimeoutSeconds",
                    "fieldPath": ".restartAfterSeconds",
                }
            ]
        }
    )

    report_timeout_seconds: Annotated[
        int | None,
        Field(
            description=(
                "Seconds without a report from the worker after which the job is Stalled (a "
                "condition and a Warning Event). Keep it well above the operator's progress "
                "interval: a worker writes at most one report per interval."
            ),
            ge=1,
            le=MAX_STALL_SECONDS,
        ),
    ] = None
    restart_after_seconds: Annotated[
        int | None,
        Field(
            description=(
                "Seconds without a report after which the attempt is ended (its pod evicted) "
                "and retried, or the job failed when its retries are spent; greater than "
                "reportTimeoutSeconds."
            ),
            ge=1,
            le=MAX_STALL_SECONDS,
        ),
    ] = None
    startup_grace_seconds: Annotated[
        int | None,
        Field(
            description=(
                "Extra seconds an attempt gets before its worker's first report (imports, "
                "dataset loading); its clock starts when the worker container runs."
            ),
            ge=0,
            le=MAX_STALL_SECONDS,
        ),
    ] = None

    @model_validator(mode="after")
    def _restart_after_the_timeout(self) -> StallPolicy:
        """Mirror the CEL rule, so clients get the same error before the API server."""
        timeout, restart = self.report_timeout_seconds, self.restart_after_seconds
        if timeout is not None and restart is not None and restart <= timeout:
            raise ValueError(
                f"stall.restartAfterSeconds: {restart} must be greater than "
                f"reportTimeoutSeconds ({timeout})"
            )
        return self


class StallStatus(WireModel):
    """What the operator did about a worker that stopped reporting."""

    restarts: Annotated[
        int,
        Field(description="Attempts ended because their worker stopped reporting.", ge=0),
    ] = 0
    last_pod: Annotated[
        str | None,
        Field(description="The pod whose attempt was ended last.", max_length=253),
    ] = None
