"""The plain `report()` API for custom training loops, and the process-wide reporter.

Inside a worker pod (or with the job's environment set) a custom loop needs
no set-up:

    from aijob_worker.reporting import report
    for epoch in range(1, epochs + 1):
        ...
        report(epoch=epoch, total_epochs=epochs, metrics={"loss": loss})

The reporter is made on first use from the job contract (AIJOB_NAME,
AIJOB_NAMESPACE, AIJOB_UID, AIJOB_PROGRESS_INTERVAL_SECONDS; AIJOB_STATUS_URL for the
status channel, AIJOB_STATUS_FILE offline), and its final write happens at interpreter
exit. It continues the metric history (`status.metricHistory`) that an earlier run of the
script left in the status.
The Keras and transformers callbacks in `aijob_worker.integrations` use the same reporter.
While the `custom` runner runs a job's own code (`spec.code`), the process-wide reporter is
that job's own (`job_reporter`), so the callbacks report into its training session.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aijob_api import contract

from aijob_worker.channel import channel_writer_from_env
from aijob_worker.context import DEFAULT_PROGRESS_INTERVAL_SECONDS, ENV_STATUS_FILE
from aijob_worker.progress import ProgressReporter
from aijob_worker.status import (
    FileStatusWriter,
    KubeStatusWriter,
    LogStatusWriter,
    StatusWriteError,
    StatusWriter,
)

_lock = threading.Lock()
_reporter: ProgressReporter | None = None


def writer_from_env(env: Mapping[str, str]) -> StatusWriter:
    """The status writer the environment asks for: the operator's status channel
    (`AIJOB_STATUS_URL`), the AIJob through the API server, a status file, or the log."""
    channel = channel_writer_from_env(env)
    if channel is not None:
        return channel
    name, namespace = env.get(contract.ENV_JOB_NAME), env.get(contract.ENV_NAMESPACE)
    if name and namespace:
        return KubeStatusWriter.from_environment(
            namespace=namespace, name=name, uid=env.get(contract.ENV_JOB_UID) or None
        )
    if env.get(ENV_STATUS_FILE):
        return FileStatusWriter(Path(env[ENV_STATUS_FILE]))
    return LogStatusWriter()


def default_reporter(env: Mapping[str, str] | None = None) -> ProgressReporter:
    """The process-wide reporter, made (and started) on first use."""
    global _reporter
    with _lock:
        if _reporter is None:
            values = os.environ if env is None else env
            interval = float(
                values.get(contract.ENV_PROGRESS_INTERVAL) or DEFAULT_PROGRESS_INTERVAL_SECONDS
            )
            writer = writer_from_env(values)
            _reporter = ProgressReporter(writer, interval=interval)
            try:  # a restarted script continues the history its last run left in the status
                _reporter.resume_history(writer.read_status().metric_history)
            except StatusWriteError as error:
                logging.getLogger(__name__).warning("metric history not resumed: %s", error)
            _reporter.start()
            atexit.register(_reporter.close)
        return _reporter


@contextmanager
def job_reporter(reporter: ProgressReporter) -> Iterator[ProgressReporter]:
    """Make `reporter` (the running job's) the process-wide one for a while."""
    global _reporter
    with _lock:
        previous, _reporter = _reporter, reporter
    try:
        yield reporter
    finally:
        with _lock:
            _reporter = previous


def report(**fields: Any) -> None:
    """Record progress (epoch, total_epochs, step, total_steps, metrics, percent, stage)."""
    default_reporter().report(**fields)
