"""`aijob metrics` and the curves of `aijob watch`, through a real gateway and API server."""

from __future__ import annotations

import json
from typing import Any

from aijob_cli.curves import BLOCKS
from aijob_cli.exitcodes import ExitCode
from lightkube import Client

from tests.integration.cli.test_cli import Terminal, aijob, env
from tests.support.eventually import Timeout, eventually
from tests.support.gateway import TenantKey, patch_status

__all__ = ["env"]

LOSSES = (0.9, 0.5, 0.25)


def history(epochs: int) -> dict[str, Any]:
    return {
        "startedAt": "2025-05-01T10:00:00Z",
        "series": [
            {
                "name": "loss",
                "axis": "epoch",
                "bucketWidth": 1,
                "x": list(range(1, epochs + 1)),
                "values": list(LOSSES[:epochs]),
                "seconds": [float(epoch) for epoch in range(epochs)],
            }
        ],
    }


def test_watch_draws_the_loss_curve_as_reports_arrive_and_metrics_prints_it(
    env: dict[str, str], tenant: TenantKey, kube: Client
) -> None:
    name = aijob(env, "submit", "--model-type", "mlp", "--dataset", "digits").stdout.strip()
    quiet = aijob(env, "metrics", name)
    assert quiet.returncode == 0, quiet.stderr
    assert "no metrics reported yet" in quiet.stdout

    terminal = Terminal(env, "watch", name, "--interval", "0.2")
    eventually(lambda: "Pending" in terminal.read(), timeout=Timeout.API)
    for epoch in (1, 2, 3):
        progress: dict[str, Any] = {"percent": epoch * 30, "epoch": epoch, "totalEpochs": 3}
        progress["metrics"] = {"loss": LOSSES[epoch - 1]}
        patch_status(
            kube,
            tenant.namespace,
            name,
            {"phase": "Running", "progress": progress, "metricHistory": history(epoch)},
        )
        latest = f"{LOSSES[epoch - 1]:.4g} at epoch {epoch}"

        def drawn(text: str = latest) -> bool:
            return text in terminal.read()

        eventually(drawn, timeout=Timeout.API, what=latest)
    assert f"{BLOCKS[-1]}{BLOCKS[3]}{BLOCKS[0]}" in terminal.screen, "the curve falls"
    patch_status(kube, tenant.namespace, name, {"phase": "Succeeded"})
    assert terminal.wait() == ExitCode.OK

    shown = aijob(env, "metrics", name)
    assert shown.returncode == 0, shown.stderr
    (row,) = [line for line in shown.stdout.splitlines() if line.lstrip("│ ").startswith("loss")]
    for cell in ("epoch", "0.25 @ 3", "0.9", f"{BLOCKS[-1]}"):
        assert cell in row
    as_json = json.loads(aijob(env, "metrics", name, "--json").stdout)
    assert [(p["x"], p["value"]) for p in as_json["series"][0]["points"]] == [
        (1, 0.9),
        (2, 0.5),
        (3, 0.25),
    ]
    points = aijob(env, "metrics", name, "--series", "loss")
    assert "2025-05-01T10:00:02Z" in points.stdout
    unknown = aijob(env, "metrics", name, "--series", "accuracy")
    assert unknown.returncode == ExitCode.NOT_FOUND
    assert "no metric series named 'accuracy'" in unknown.stderr

    plain = aijob(env, "watch", name, "--interval", "0.2")
    assert plain.returncode == ExitCode.OK
    lines = plain.stdout.splitlines()
    assert lines[0].startswith(f"{name} Succeeded 100% epoch 3/3 loss 0.2500")
    assert lines[1].startswith("loss ")
    assert lines[1].endswith("0.25 at epoch 3  (min 0.25, max 0.9)")
    assert lines[2] == f"{name}: Succeeded"
