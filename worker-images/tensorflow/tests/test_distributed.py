"""Two TensorFlow pods of one job: TF_CONFIG composed by the worker from the group's hosts.

Each "pod" is a `python -m aijob_worker` process with the operator's variables
(`aijob_worker.offline.run_group_offline`); the script builds a
MultiWorkerMirroredStrategy from the TF_CONFIG the worker set and sums a value of each
worker across the group, so the two really meet.
"""

from __future__ import annotations

import json
from pathlib import Path

from aijob_worker.offline import local_hosts, read_offline_status, run_group_offline

SCRIPT = """
import json, os
import tensorflow as tf
from aijob_worker import report

config = json.loads(os.environ["TF_CONFIG"])
strategy = tf.distribute.MultiWorkerMirroredStrategy()
mine = float(config["task"]["index"] + 1)
total = strategy.reduce(
    tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(mine)), axis=None
)
print("TF_CONFIG", json.dumps(config), flush=True)
report(
    epoch=1,
    total_epochs=1,
    metrics={"replicas": strategy.num_replicas_in_sync, "sum": float(total)},
)
"""


def test_two_workers_meet_through_the_tf_config_the_worker_composed(tmp_path: Path) -> None:
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "workers.py").write_text(SCRIPT)
    spec = {
        "task": "training",
        "framework": "tensorflow",
        "code": {"configMap": "code", "entrypoint": "workers.py"},
        "distributed": {"nodes": 2},
    }
    hosts = local_hosts(2)
    pods = run_group_offline(spec, tmp_path / "job", hosts, AIJOB_CODE_DIR=str(code_dir))
    for index, pod in enumerate(pods):
        assert pod.returncode == 0, pod.stderr[-3000:]
        line = next(line for line in pod.stdout.splitlines() if line.startswith("TF_CONFIG "))
        assert json.loads(line.removeprefix("TF_CONFIG ")) == {
            "cluster": {"worker": hosts},
            "task": {"type": "worker", "index": index},
        }
    status = read_offline_status(tmp_path / "job")
    for rank in ("0", "1"):  # each worker is a rank, ranked by its node
        assert status["ranks"][rank]["metrics"] == {"replicas": 2.0, "sum": 3.0}
    assert status["results"]["metrics"]["sum"] == 3.0  # rank 0 (the chief) wrote the results
