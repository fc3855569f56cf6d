"""An operator started before Kueue was installed watches its Workloads once it appears."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest
from aijob_operator.handlers import lifecycle
from aijob_operator.informer import ChildCache, ChildInformer
from aijob_operator.kube import KubeApi
from aijob_operator.reconciler import Caches
from aijob_operator.store import AIJobStore


class Discovery:
    """Answers `workloads_served` from a script: Kueue absent, then installed."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def workloads_served(self, namespaces: list[str]) -> bool:
        self.asked += 1
        return self.answers.pop(0)


class Informer:
    """The Workload informer's cache and run (returns at once here)."""

    def __init__(self) -> None:
        self.cache = ChildCache()
        self.ran = False

    async def run(self) -> None:
        self.ran = True


@pytest.mark.unit
def test_the_workloads_are_watched_once_kueue_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lifecycle, "KUEUE_RECHECK_SECONDS", 0)
    caches = Caches(aijobs=AIJobStore(), jobs=ChildCache(), pods=ChildCache())
    before = caches.workloads
    api = Discovery(False, False, True)
    made = Informer()

    def informer() -> ChildInformer:
        return cast(ChildInformer, made)

    logger = cast(Any, logging.getLogger("test"))
    asyncio.run(lifecycle._kueue_later(cast(KubeApi, api), ["ns"], caches, informer, logger))
    assert api.asked == 3
    assert made.ran
    assert caches.workloads is made.cache
    assert caches.workloads is not before
