"""The ranks of a distributed job write their own `status.ranks` entries, against the real
API server: into a job without a status, then with one, never overwriting each other.

The writes are made by the worker runtime's own classes (`RankStatusWriter` around
`KubeStatusWriter`, `ProgressReporter`) in processes of a framework image's environment.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from lightkube import Client

from tests.integration.worker.support import create_aijob, framework_python, read_aijob
from tests.support.eventually import Timeout

TRAINING = {"task": "training", "model": {"type": "svm"}, "dataset": {"name": "iris"}}

WRITE = textwrap.dedent(
    """
    import json, sys
    from aijob_worker.distributed import Rank, RankStatusWriter
    from aijob_worker.progress import ProgressReporter
    from aijob_worker.status import KubeStatusWriter

    job = json.load(sys.stdin)
    inner = KubeStatusWriter.from_environment(
        namespace=job["namespace"], name=job["name"], uid=job["uid"]
    )
    writer = RankStatusWriter(inner, Rank(job["rank"], job["world_size"]))
    reporter = ProgressReporter(writer, interval=3600)
    reporter.report(epoch=job["epoch"], total_epochs=8, metrics={"loss": job["loss"]})
    landed = reporter.write_now(job.get("patch") or {}, deadline_seconds=60)
    error = reporter.last_error
    print(json.dumps({"landed": landed, "error": None if error is None else str(error)}))
    """
)


def write_as_rank(
    kubeconfig: Path, namespace: str, name: str, uid: str, **job: Any
) -> dict[str, Any]:
    """One synchronous progress write by the rank `job["rank"]`, in a process of its own."""
    body = {"namespace": namespace, "name": name, "uid": uid, "world_size": 2, **job}
    done = subprocess.run(
        [str(framework_python("sklearn")), "-c", WRITE],
        input=json.dumps(body),
        capture_output=True,
        text=True,
        env={"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin"},
        timeout=Timeout.PROCESS,
        check=True,
    )
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def test_each_rank_writes_only_its_own_entry_and_rank_0_the_jobs_progress(
    kube: Client, namespace: str, kubeconfig: Path
) -> None:
    uid = create_aijob(kube, namespace, "ranks", TRAINING).metadata.uid
    assert uid is not None

    # Rank 1 first, into a job without any status: the status is added with its entry.
    first = write_as_rank(kubeconfig, namespace, "ranks", uid, rank=1, epoch=1, loss=0.9)
    assert first["landed"] is True, first
    status = read_aijob(kube, namespace, "ranks").status
    assert status.ranks is not None
    assert set(status.ranks) == {"1"}
    assert status.progress is None, "rank 1 does not write the job's progress"

    # Rank 0 adds its own entry beside rank 1's, with the job's progress and checkpoint.
    checkpoint = {"checkpoint": {"uri": "s3://bucket/jobs/ranks/checkpoints/epoch-1", "epoch": 1}}
    zero = write_as_rank(
        kubeconfig, namespace, "ranks", uid, rank=0, epoch=1, loss=0.8, patch=checkpoint
    )
    assert zero["landed"] is True, zero
    # Rank 1 again: replaces only its own entry, and its checkpoint is not the job's.
    other = {"checkpoint": {"uri": "s3://bucket/elsewhere", "epoch": 2}}
    again = write_as_rank(
        kubeconfig, namespace, "ranks", uid, rank=1, epoch=2, loss=0.5, patch=other
    )
    assert again["landed"] is True, again

    status = read_aijob(kube, namespace, "ranks").status
    assert status.ranks is not None
    assert {rank: entry.epoch for rank, entry in status.ranks.items()} == {"0": 1, "1": 2}
    assert status.ranks["1"].metrics == {"loss": 0.5}
    assert status.progress is not None
    assert (status.progress.epoch, status.progress.metrics) == (1, {"loss": 0.8})
    assert status.checkpoint is not None
    assert status.checkpoint.epoch == 1
