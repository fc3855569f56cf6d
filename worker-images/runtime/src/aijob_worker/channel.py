"""Status writes over the status channel: reports to the operator, no Kubernetes credentials.

With `AIJOB_STATUS_URL` set (the operator's `status_channel`), a worker holds no API token:
it sends its share of the status to the operator's status server
(`aijob_api.status_report`) with the projected ServiceAccount token the kubelet keeps in
`AIJOB_STATUS_TOKEN_FILE` (re-read before every request: it is rotated), over TLS verified
against the CA in `AIJOB_STATUS_CA` for the name in `AIJOB_STATUS_SERVER_NAME` (the URL may
hold the Service's address: the connection goes there, the certificate is checked for the
name). The operator checks the token, the pod and the job, and writes the status itself.

Answers map onto `StatusWriteError`'s classes, so `ProgressReporter` keeps its throttle,
back-off and outage behaviour: 401 is retryable a few times in a row (a token being
rotated), then refused; 408, 429 and 5xx are retryable, with `Retry-After` kept; 404 and 409
are permanent (the AIJob is gone or was re-created); other 4xx (403, 413, 422) refused.

A standby replica answers 503: the kept-alive connection is then dropped, so the next try
opens a new one, which the Service may send to the leader (reading the status back waits
out such answers for up to 30 s). `sequence` rises per pod across container restarts
(microseconds of the wall clock, never less than the last one plus one): the operator
drops a report older than one it wrote.
The attempt's last report (`report_outcome`) is `final` and carries the exit status; it is
retried until acknowledged, a permanent answer, or its deadline (then the exit code and the
Job decide).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import httpx2 as httpx
from aijob_api import contract
from aijob_api.models import AIJobStatus
from aijob_api.status_report import (
    ENV_STATUS_CA,
    ENV_STATUS_SERVER_NAME,
    ENV_STATUS_TOKEN_FILE,
    ENV_STATUS_URL,
    STATUS_PATH_PREFIX,
    TOKEN_FILE_NAME,
    TOKEN_MOUNT_DIR,
    AttemptOutcome,
    ReportAnswer,
    StatusReport,
    WorkerStatusParts,
)
from pydantic import ValidationError

from aijob_worker.progress import backoff_seconds
from aijob_worker.status import REQUEST_TIMEOUT_SECONDS, StatusWriteError, StatusWriter

logger = logging.getLogger(__name__)

MAX_UNAUTHORIZED_IN_A_ROW = 3
"""401s in a row still retried (the kubelet rotating the token); past this, refused."""
FINAL_REPORT_DEADLINE_SECONDS = 120.0
"""How long the final report keeps trying (an operator restart or failover takes less)."""
MAX_RETRY_AFTER_SECONDS = 60.0
READ_DEADLINE_SECONDS = 30.0
"""How long reading the status back (to resume) keeps trying past a standby or an outage."""
_PERMANENT_CODES = frozenset({404, 409, 410})
_RETRYABLE_CLIENT_CODES = frozenset({408, 425, 429})


@runtime_checkable
class OutcomeWriter(Protocol):
    """A writer that takes the attempt's outcome (the status channel's final report)."""

    def report_outcome(
        self, exit_code: int, message: str, *, deadline_seconds: float = ...
    ) -> bool:
        """Send the final report; whether the operator acknowledged it."""


class ChannelStatusWriter:
    """Reports the worker's share of the status to the operator's status server."""

    def __init__(
        self,
        *,
        url: str,
        namespace: str,
        name: str,
        uid: str,
        pod: str,
        token_file: Path,
        ca_pem: str,
        server_name: str | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tls = ssl.create_default_context(cadata=ca_pem)
        self._timeout = httpx.Timeout(timeout)
        self._client = httpx.Client(verify=self._tls, timeout=self._timeout)
        self._url = f"{url.rstrip('/')}{STATUS_PATH_PREFIX}/{quote(namespace)}/{quote(name)}"
        self._uid = uid
        self._pod = pod
        self._token_file = token_file
        self._extensions: dict[str, Any] = {"sni_hostname": server_name} if server_name else {}
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sequence = -1
        self._unauthorized = 0

    def next_sequence(self) -> int:
        """A sequence above every earlier one of this pod (also after a container restart)."""
        with self._lock:
            self._sequence = max(self._sequence + 1, int(self._wall_clock() * 1_000_000))
            return self._sequence

    def patch_status(self, patch: Mapping[str, Any]) -> None:
        """Report the parts `patch` names; raise StatusWriteError when not accepted."""
        self._post(self._report(patch, final=False))

    def read_status(self, *, deadline_seconds: float = READ_DEADLINE_SECONDS) -> AIJobStatus:
        """The worker's share of the status as the operator reads it now (for resuming),
        retried while the answer is retryable (a standby's 503), up to the deadline."""
        deadline = time.monotonic() + deadline_seconds
        failures = 0
        while True:
            try:
                response = self._send("GET", None)
                break
            except StatusWriteError as error:
                failures += 1
                remaining = deadline - time.monotonic()
                if not error.retryable or remaining <= 0:
                    raise
                self._sleep(min(remaining, max(backoff_seconds(failures), error.retry_after or 0)))
        try:
            parts = WorkerStatusParts.model_validate_json(response.content)
        except ValidationError as error:
            raise StatusWriteError(
                f"the status server's answer is not a status: {error}", retryable=True
            ) from error
        return AIJobStatus.model_validate(
            parts.model_dump(mode="json", by_alias=True, exclude_none=True)
        )

    def report_outcome(
        self,
        exit_code: int,
        message: str,
        *,
        deadline_seconds: float = FINAL_REPORT_DEADLINE_SECONDS,
    ) -> bool:
        """The attempt's final report, retried until acknowledged, refused or the deadline."""
        outcome = {"exitCode": max(0, min(255, exit_code)), "message": message[-4096:]}
        deadline = time.monotonic() + deadline_seconds
        failures = 0
        while True:
            try:
                self._post(self._report({}, final=True, outcome=outcome))
                return True
            except StatusWriteError as error:
                if not error.retryable:
                    logger.warning("final report not accepted: %s", error)
                    return False
                failures += 1
                wait = max(backoff_seconds(failures), error.retry_after or 0.0)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    logger.warning("final report given up: %s", error)
                    return False
                logger.info("final report failed, retrying: %s", error)
                self._sleep(min(wait, remaining))

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def _report(
        self, parts: Mapping[str, Any], *, final: bool, outcome: Mapping[str, Any] | None = None
    ) -> bytes:
        """The report's JSON, checked against the contract first (a bad part is refused)."""
        try:
            report = StatusReport.model_validate(
                {
                    "uid": self._uid,
                    "pod": self._pod,
                    "sequence": self.next_sequence(),
                    "final": final,
                    "status": dict(parts),
                    "outcome": None if outcome is None else AttemptOutcome.model_validate(outcome),
                }
            )
        except ValidationError as error:
            raise StatusWriteError(
                f"the report does not match the contract: {error}", retryable=False, code=422
            ) from error
        return report.model_dump_json(by_alias=True, exclude_none=True).encode()

    def _post(self, body: bytes) -> ReportAnswer:
        response = self._send("POST", body)
        try:
            return ReportAnswer.model_validate_json(response.content)
        except ValidationError:  # accepted all the same: the status code says so
            return ReportAnswer(sequence=0, written=False)

    def _send(self, method: str, body: bytes | None) -> httpx.Response:
        """One request with the current token; a StatusWriteError for anything but 200."""
        try:
            token = self._token_file.read_text().strip()
        except OSError as error:  # not projected yet, or being swapped by the kubelet
            raise StatusWriteError(f"no token to report with: {error}", retryable=True) from error
        headers = {"Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._client.request(
                method, self._url, content=body, headers=headers, extensions=self._extensions
            )
        except httpx.HTTPError as error:
            self._reconnect()
            raise StatusWriteError(
                f"status server unreachable: {type(error).__name__}: {error}", retryable=True
            ) from error
        if response.status_code == 503:
            self._reconnect()
        if response.status_code == 200:
            self._unauthorized = 0
            return response
        raise self._classify(response)

    def _reconnect(self) -> None:
        """Drop the kept-alive connection: the Service spreads connections, not requests, over
        the operator's replicas, so a new one may reach the leader where a standby answered."""
        self._client.close()
        self._client = httpx.Client(verify=self._tls, timeout=self._timeout)

    def _classify(self, response: httpx.Response) -> StatusWriteError:
        code = response.status_code
        message = f"status server answered {code}: {response.text[:1000].strip()}"
        if code == 401:
            self._unauthorized += 1
            retryable = self._unauthorized <= MAX_UNAUTHORIZED_IN_A_ROW
            return StatusWriteError(message, retryable=retryable, code=code)
        if code in _PERMANENT_CODES:
            return StatusWriteError(message, retryable=False, permanent=True, code=code)
        if 400 <= code < 500 and code not in _RETRYABLE_CLIENT_CODES:
            return StatusWriteError(message, retryable=False, code=code)
        return StatusWriteError(
            message, retryable=True, code=code, retry_after=retry_after_seconds(response)
        )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (the delay form; a date is ignored), capped."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, seconds))


def channel_writer_from_env(env: Mapping[str, str]) -> ChannelStatusWriter | None:
    """The channel's writer when `AIJOB_STATUS_URL` is set (None: report another way).

    The job's name, namespace, uid and pod name and the CA are required with it: a pod the
    operator set up for the channel has them all (ValueError otherwise, a set-up bug).
    """
    url = env.get(ENV_STATUS_URL)
    if not url:
        return None
    required = {
        contract.ENV_JOB_NAME: env.get(contract.ENV_JOB_NAME),
        contract.ENV_NAMESPACE: env.get(contract.ENV_NAMESPACE),
        contract.ENV_JOB_UID: env.get(contract.ENV_JOB_UID),
        contract.ENV_POD_NAME: env.get(contract.ENV_POD_NAME),
        ENV_STATUS_CA: env.get(ENV_STATUS_CA),
    }
    missing = sorted(name for name, value in required.items() if not value)
    if missing:
        raise ValueError(f"{ENV_STATUS_URL} is set without {', '.join(missing)}")
    token_file = env.get(ENV_STATUS_TOKEN_FILE) or f"{TOKEN_MOUNT_DIR}/{TOKEN_FILE_NAME}"
    return ChannelStatusWriter(
        url=url,
        namespace=required[contract.ENV_NAMESPACE] or "",
        name=required[contract.ENV_JOB_NAME] or "",
        uid=required[contract.ENV_JOB_UID] or "",
        pod=required[contract.ENV_POD_NAME] or "",
        token_file=Path(token_file),
        ca_pem=required[ENV_STATUS_CA] or "",
        server_name=env.get(ENV_STATUS_SERVER_NAME) or None,
    )


def report_outcome(writer: StatusWriter, exit_code: int, message: str) -> bool | None:
    """Send the attempt's outcome when the writer takes one (None: it does not)."""
    if not isinstance(writer, OutcomeWriter):
        return None
    return writer.report_outcome(exit_code, message)
