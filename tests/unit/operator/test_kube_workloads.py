"""`KubeApi.workloads_served`: a 404 means Kueue is not (yet) served, whatever its body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx2 as httpx
import pytest
from aijob_operator.kube import KubeApi
from lightkube import AsyncClient


class _RaisingClient:
    def __init__(self, status: int) -> None:
        self.status = status

    async def list(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        request = httpx.Request("GET", "https://api/apis/kueue.x-k8s.io/v1beta2/workloads")
        response = httpx.Response(self.status, text="404 page not found", request=request)
        raise httpx.HTTPStatusError("not served", request=request, response=response)
        yield  # type: ignore[unreachable]  # an async generator, as lightkube's list is


async def test_a_plain_404_means_not_served() -> None:
    api = KubeApi(cast(AsyncClient, _RaisingClient(404)))
    assert await api.workloads_served(["team-a"]) is False


async def test_another_plain_error_is_raised() -> None:
    api = KubeApi(cast(AsyncClient, _RaisingClient(500)))
    with pytest.raises(httpx.HTTPStatusError):
        await api.workloads_served(["team-a"])
