"""Leader election against the real API server: one leader at a time on one Lease, a dead
leader's lease taken after its duration, a released one at once, a displaced leader stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aijob_kube.resources import RawLease
from aijob_operator.leader_election import LeaderElector, record_of
from aijob_operator.lease_decide import Timings
from lightkube import AsyncClient, KubeConfig

from tests.support.cluster import ClusterInfo
from tests.support.eventually import Timeout, eventually_async

# Short but in client-go's proportions, so a takeover takes seconds, not a quarter minute.
FAST = Timings(lease_duration=3.0, renew_deadline=2.0, retry_period=0.5)
LEASE = "aijob-operator-test"
LONG_LEASE = Timeout.PROCESS * 2


@pytest.fixture
async def client(cluster: ClusterInfo) -> AsyncIterator[AsyncClient]:
    config = KubeConfig.from_file(str(cluster.kubeconfig))
    async with AsyncClient(config=config, field_manager="aijob-tests") as opened:
        yield opened


class Candidates:
    """Electors on one Lease, each run as a task; every task is cancelled at the end."""

    def __init__(self, client: AsyncClient, namespace: str) -> None:
        self.client, self.namespace = client, namespace
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.lost: list[str] = []

    def start(
        self, identity: str, timings: Timings = FAST, own_pod: str | None = None
    ) -> LeaderElector:
        elector = LeaderElector(
            self.client,
            self.namespace,
            LEASE,
            identity,
            timings,
            lambda: self.lost.append(identity),
            own_pod=own_pod,
        )
        self.tasks[identity] = asyncio.create_task(elector.run())
        return elector

    async def holder(self) -> str | None:
        lease = await self.client.get(RawLease, LEASE, namespace=self.namespace)
        return record_of(dict(lease)).holder

    async def stop_all(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


@pytest.fixture
async def candidates(client: AsyncClient, namespace: str) -> AsyncIterator[Candidates]:
    made = Candidates(client, namespace)
    yield made
    await made.stop_all()


async def test_one_leads_and_the_other_takes_over_once_it_dies(candidates: Candidates) -> None:
    a = candidates.start("a")
    await asyncio.wait_for(a.leading.wait(), Timeout.API)
    b = candidates.start("b")
    # b reads the lease for longer than its duration: a renews it, so b never leads.
    for _ in range(round(FAST.lease_duration * 2 / FAST.retry_period)):
        await asyncio.sleep(FAST.retry_period)
        assert not b.leading.is_set()
        assert await candidates.holder() == "a"
    candidates.tasks["a"].cancel()  # dies without a word: no release
    await asyncio.wait_for(b.leading.wait(), Timeout.API)
    assert await candidates.holder() == "b"
    lease = await candidates.client.get(RawLease, LEASE, namespace=candidates.namespace)
    assert record_of(dict(lease)).transitions == 1
    assert candidates.lost == []


async def test_a_released_lease_is_taken_without_waiting_it_out(candidates: Candidates) -> None:
    a = candidates.start("a", Timings(LONG_LEASE, FAST.renew_deadline, FAST.retry_period))
    await asyncio.wait_for(a.leading.wait(), Timeout.API)
    b = candidates.start("b")
    await asyncio.sleep(FAST.retry_period * 2)
    candidates.tasks["a"].cancel()
    await asyncio.gather(candidates.tasks["a"], return_exceptions=True)
    await a.release()
    assert await candidates.holder() is None
    # Unreleased, b would wait out a's lease (far longer than this wait).
    await asyncio.wait_for(b.leading.wait(), Timeout.API)


async def test_a_restarted_container_of_the_leaders_pod_leads_at_once(
    candidates: Candidates,
) -> None:
    long = Timings(LONG_LEASE, FAST.renew_deadline, FAST.retry_period)
    a = candidates.start("pod-a_1", long, own_pod="pod-a")
    await asyncio.wait_for(a.leading.wait(), Timeout.API)
    b = candidates.start("pod-b_1", long, own_pod="pod-b")
    candidates.tasks["pod-a_1"].cancel()  # its container dies without a word, then restarts
    await asyncio.gather(candidates.tasks["pod-a_1"], return_exceptions=True)
    again = candidates.start("pod-a_2", long, own_pod="pod-a")
    # Another pod would wait out the dead holder's lease (far longer than this wait).
    await asyncio.wait_for(again.leading.wait(), Timeout.API)
    assert await candidates.holder() == "pod-a_2"
    assert not b.leading.is_set()


async def test_a_displaced_leader_stops_by_its_renew_deadline(
    candidates: Candidates, client: AsyncClient, namespace: str
) -> None:
    a = candidates.start("a")
    await asyncio.wait_for(a.leading.wait(), Timeout.API)
    lease = dict(await client.get(RawLease, LEASE, namespace=namespace))
    lease["spec"]["holderIdentity"] = "intruder"
    await client.replace(RawLease.from_dict(lease))

    await eventually_async(
        lambda: candidates.lost == ["a"], timeout=Timeout.API, interval=0.1, what="a stops"
    )
    assert candidates.tasks["a"].done()
    assert await candidates.holder() == "intruder"


async def test_racing_candidates_elect_exactly_one(candidates: Candidates) -> None:
    electors = [candidates.start(f"c{number}") for number in range(5)]
    await eventually_async(
        lambda: any(e.leading.is_set() for e in electors), timeout=Timeout.API, what="a leader"
    )
    await asyncio.sleep(FAST.lease_duration)
    leaders = [e.identity for e in electors if e.leading.is_set()]
    assert leaders == [await candidates.holder()]
