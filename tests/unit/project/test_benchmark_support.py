"""benchmarks.support, imported as the benchmarks import it (no path edit): percentiles,
latency summaries and the measured cluster's kubeconfig."""

from __future__ import annotations

import math
import os

import pytest

from benchmarks.support import kubeconfig_path, latency_summary, percentile
from tests.support.cluster import LOCAL_KUBECONFIG


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([3.0], 0.5, 3.0),
        ([5.0, 1.0, 3.0], 0.5, 3.0),
        ([float(n) for n in range(1, 101)], 0.5, 51.0),
        ([float(n) for n in range(1, 101)], 0.99, 99.0),
        ([float(n) for n in range(1, 101)], 1.0, 100.0),
        ([float(n) for n in range(1, 101)], 0.0, 1.0),
    ],
)
def test_percentile_is_the_nearest_rank(values: list[float], share: float, expected: float) -> None:
    assert percentile(values, share) == expected


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 0.99))


def test_latency_summary_is_in_milliseconds() -> None:
    summary = latency_summary([0.001, 0.002, 0.003, 0.010])

    assert summary == {"count": 4, "p50_ms": 3.0, "p99_ms": 10.0, "max_ms": 10.0, "mean_ms": 4.0}


def test_kubeconfig_is_kubeconfigs_first_file_else_the_local_clusters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(["/a/config", "/b/config"]))
    assert kubeconfig_path() == "/a/config"
    monkeypatch.delenv("KUBECONFIG")
    assert kubeconfig_path() == str(LOCAL_KUBECONFIG)
