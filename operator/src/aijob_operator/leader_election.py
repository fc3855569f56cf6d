"""Leader election on a `coordination.k8s.io/v1` Lease: the loop that reads and writes it.

Every `retry_period` a candidate reads the Lease, notes whether its record changed
(`lease_decide.observe`) and does what `lease_decide.decide` says: create it, take it
(expired), renew it (ours) or nothing (another's, alive). Every write is a `replace` at
the resourceVersion read, so two candidates racing for one Lease cannot both win: the
loser gets 409 Conflict and reads again. Once it leads, `leading` is set; when it could
not renew for `renew_deadline` seconds, `on_lost` is called at once (the operator exits,
so its Deployment starts it again as a standby, as client-go's callers do). On a clean
stop a leader releases the Lease (`release`) so a standby need not wait it out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from aijob_kube.errors import ConflictError, KubeError, NotFoundError, kube_errors
from aijob_kube.resources import RawLease
from lightkube import AsyncClient

from aijob_operator.config import OperatorConfig
from aijob_operator.lease_decide import (
    Action,
    LeaseRecord,
    Observation,
    Timings,
    decide,
    lost,
    next_record,
    observe,
    released,
)

logger = logging.getLogger(__name__)

MICRO_TIME: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
"""The API server's MicroTime: RFC 3339 with exactly six fractional digits."""


def identity_of(pod_name: str | None) -> str:
    """This candidate's holder identity: the pod's name (or the host's) and a random suffix,
    so a restarted container never mistakes its predecessor's lease for its own."""
    return f"{pod_name or socket.gethostname()}_{secrets.token_hex(4)}"


def record_of(body: dict[str, Any]) -> LeaseRecord:
    """A Lease's spec as a record."""
    spec = body.get("spec") or {}
    return LeaseRecord(
        holder=spec.get("holderIdentity") or None,
        duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
        acquire_time=_parse(spec.get("acquireTime")),
        renew_time=_parse(spec.get("renewTime")),
        transitions=int(spec.get("leaseTransitions") or 0),
    )


def spec_of(record: LeaseRecord) -> dict[str, Any]:
    """A record as a Lease's spec."""
    spec: dict[str, Any] = {
        "holderIdentity": record.holder or "",
        "leaseDurationSeconds": record.duration_seconds,
        "leaseTransitions": record.transitions,
    }
    if record.acquire_time is not None:
        spec["acquireTime"] = record.acquire_time.strftime(MICRO_TIME)
    if record.renew_time is not None:
        spec["renewTime"] = record.renew_time.strftime(MICRO_TIME)
    return spec


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _now() -> datetime:
    return datetime.now(UTC)


class LeaderElector:
    """One candidate for one Lease (`run` until cancelled)."""

    def __init__(
        self,
        client: AsyncClient,
        namespace: str,
        name: str,
        identity: str,
        timings: Timings,
        on_lost: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        own_pod: str | None = None,
    ) -> None:
        self._client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timings = timings
        self._on_lost = on_lost
        self._clock = clock
        self.own_pod = own_pod
        """The pod this candidate runs in, where it does (`lease_decide.decide`)."""
        self._observed: Observation | None = None
        self._last_renewed: float | None = None
        self.leading = asyncio.Event()
        """Set once this candidate holds the lease (never cleared: losing it ends the loop)."""

    async def run(self) -> None:
        """Try for the lease, then keep it; returns only after losing it (`on_lost` called)."""
        while not self.leading.is_set():
            await self._try_round("acquiring")
            if not self.leading.is_set():
                await asyncio.sleep(self.timings.retry_period)
        logger.info("lease %s/%s acquired by %s", self.namespace, self.name, self.identity)
        while True:
            await asyncio.sleep(self.timings.retry_period)
            await self._renew_within_deadline()
            assert self._last_renewed is not None
            if lost(self._last_renewed, self._clock(), self.timings):
                logger.error(
                    "lease %s/%s lost by %s: not renewed for %.0fs; stopping every write",
                    self.namespace, self.name, self.identity, self.timings.renew_deadline,
                )  # fmt: skip
                self._on_lost()
                return

    async def _renew_within_deadline(self) -> None:
        """One renewal, given no longer than what is left before the renew deadline."""
        assert self._last_renewed is not None
        left = self._last_renewed + self.timings.renew_deadline - self._clock()
        try:
            await asyncio.wait_for(self._try_round("renewing"), timeout=max(left, 0.01))
        except TimeoutError:
            logger.warning("renewing lease %s/%s timed out", self.namespace, self.name)

    async def _try_round(self, doing: str) -> None:
        """Read the Lease and act once; a failure is logged and left to the next round."""
        try:
            await self._round()
        except ConflictError:
            logger.debug(
                "%s lease %s/%s: lost a race, reading again", doing, self.namespace, self.name
            )
        except KubeError as error:
            logger.warning("%s lease %s/%s failed: %s", doing, self.namespace, self.name, error)

    async def _round(self) -> None:
        body = await self._read()
        now = self._clock()
        if body is None:
            self._observed = None
        else:
            version = str((body.get("metadata") or {}).get("resourceVersion") or "")
            self._observed = observe(self._observed, record_of(body), version, now)
        action = decide(self._observed, self.identity, now, self.own_pod)
        if action is Action.WAIT:
            return
        current = self._observed.record if self._observed is not None else None
        record = next_record(current, action, self.identity, _now(), self.timings)
        known = self._observed.resource_version if self._observed is not None else None
        written = await self._write(record, known)
        self._observed = observe(None, record_of(written), _version(written), self._clock())
        self._last_renewed = now
        if action is not Action.RENEW:
            logger.info(
                "%s: lease %s/%s %s", self.identity, self.namespace, self.name, action.value
            )
        self.leading.set()

    async def release(self) -> None:
        """Give the lease up (a clean stop): nobody holds it, a standby takes it at once."""
        if not self.leading.is_set() or self._observed is None:
            return
        if self._observed.record.holder != self.identity:
            return
        record = released(self._observed.record, _now())
        try:
            await self._write(record, self._observed.resource_version)
            logger.info("lease %s/%s released by %s", self.namespace, self.name, self.identity)
        except KubeError as error:
            logger.warning("releasing lease %s/%s failed: %s", self.namespace, self.name, error)

    async def _read(self) -> dict[str, Any] | None:
        try:
            with kube_errors(f"reading lease {self.namespace}/{self.name}"):
                found = await self._client.get(RawLease, self.name, namespace=self.namespace)
        except NotFoundError:
            return None
        return dict(found)

    async def _write(self, record: LeaseRecord, version: str | None) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if version is not None:
            metadata["resourceVersion"] = version
        body = RawLease.from_dict(
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": metadata,
                "spec": spec_of(record),
            }
        )
        with kube_errors(f"writing lease {self.namespace}/{self.name}"):
            if version is None:
                written = await self._client.create(body)
            else:
                written = await self._client.replace(body)
        return dict(written)


def _version(body: dict[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("resourceVersion") or "")


LOST_LEASE_EXIT_CODE: Final = 3
"""The operator's exit status when it lost the lease (its container is started again)."""


def exit_at_once() -> None:
    """What a leader does on losing the lease: end the process now, mid-write or not, so
    nothing more is written; the Deployment starts it again, as a standby."""
    logging.shutdown()
    os._exit(LOST_LEASE_EXIT_CODE)


def leader_elector(client: AsyncClient, config: OperatorConfig) -> LeaderElector | None:
    """The operator's candidate for its Lease, or None when the election is off."""
    if not config.leader_election or config.own_namespace is None:
        return None
    return LeaderElector(
        client,
        config.own_namespace,
        config.lease_name,
        identity_of(config.pod_name),
        config.lease_timings,
        exit_at_once,
        own_pod=config.pod_name or None,
    )
