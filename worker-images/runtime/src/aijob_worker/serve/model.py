"""The served model: loaded once through the runner contract, run one batch of requests at a time.

`BatchExecutor` runs the records of every request of a batch through
`predict_batch` together (in chunks of the largest batch size). When a record
is bad input, the requests at fault are found by preparing each alone: they
fail with their own error, naming their own record, and the others are run
again together, so one bad record never fails its neighbours.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from aijob_worker.errors import BadInputError
from aijob_worker.inference import MODEL_SOURCE_FIELD, LoadedModel, load_model
from aijob_worker.predict import StageTimes, predict_batch
from aijob_worker.runners import MODEL_TYPE_FIELD, Runner, RunnerRegistry
from aijob_worker.serve.config import ServeConfig
from aijob_worker.serve.signature import ModelSignature

WARM_UP_TEXT: Final = "warm up"
CONFIG_FIELD_OF: Final = {MODEL_SOURCE_FIELD: "modelUri", MODEL_TYPE_FIELD: "modelType"}
"""The serve config's name of a field an inference job's error names."""

logger = logging.getLogger(__name__)

RequestOutcome = list[Any] | BadInputError
"""A request's outputs (one per record), or the bad input that failed it."""


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and what the protocol says about it."""

    name: str
    model_uri: str
    loaded: LoadedModel
    signature: ModelSignature
    checksum: str

    @property
    def runner(self) -> Runner:
        """The runner holding the model."""
        return self.loaded.runner

    def metadata(self) -> dict[str, Any]:
        """The V2 model metadata, with aijob's own facts under `parameters`."""
        parameters: dict[str, Any] = {
            "modelType": self.loaded.manifest.model_type,
            "framework": self.runner.framework,
            "modelUri": self.model_uri,
            "modelChecksum": self.checksum,
            "device": self.runner.device(),
        }
        if self.signature.feature_names:
            parameters["featureNames"] = list(self.signature.feature_names)
        if self.signature.class_names:
            parameters["classNames"] = list(self.signature.class_names)
        return {
            "name": self.name,
            "platform": self.runner.framework,
            "inputs": [spec.metadata() for spec in self.signature.inputs],
            "outputs": [spec.metadata() for spec in self.signature.outputs],
            "parameters": parameters,
        }


def load_served_model(config: ServeConfig, registry: RunnerRegistry, work_dir: Path) -> ServedModel:
    """Fetch, verify and load the configured model; bad input names the config field."""
    try:
        loaded = load_model(
            registry, config.model_uri, config.model_type, work_dir, config.model_sha256
        )
    except BadInputError as error:
        raise BadInputError(CONFIG_FIELD_OF.get(error.field, error.field), error.problem) from error
    if config.framework is not None and config.framework != loaded.runner.framework:
        raise BadInputError(
            "framework",
            f"{config.framework!r} does not match the model at {config.model_uri}, "
            f"run by the {loaded.runner.framework} runner {type(loaded.runner).__name__}",
        )
    return ServedModel(
        name=config.name,
        model_uri=config.model_uri,
        loaded=loaded,
        signature=ModelSignature.from_metadata(loaded.manifest.metadata),
        checksum=loaded.checksum,
    )


def warm_up(model: ServedModel) -> float | None:
    """Run one made-up record through the model before readiness; its milliseconds.

    Frameworks initialise lazily (CUDA kernels and libraries on the first call: about
    120 ms for a PyTorch MLP on an H200), so without this the first request pays it.
    A failure is logged and ignored (None): the model still serves.
    """
    signature = model.signature
    record: Any = [0.0] * len(signature.feature_names) if signature.tabular else WARM_UP_TEXT
    started = time.perf_counter()
    try:
        predict_batch(model.runner, [record])
    except Exception:
        logger.warning("warm-up failed; the first request will initialise", exc_info=True)
        return None
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class BatchResult:
    """One outcome per request of the batch, and the batch's stage times."""

    outcomes: list[RequestOutcome]
    times: StageTimes = field(default_factory=StageTimes)


class BatchExecutor:
    """Runs batches of requests through a runner (called from one worker thread at a time)."""

    def __init__(self, runner: Runner, max_batch_size: int) -> None:
        self.runner = runner
        self.max_batch_size = max_batch_size

    def __call__(self, requests: Sequence[Sequence[Any]]) -> BatchResult:
        """Each request's outputs, or its own bad input."""
        times = StageTimes()
        try:
            outputs = self._predict([record for records in requests for record in records], times)
        except BadInputError as error:
            if len(requests) == 1:
                return BatchResult([error], times)
            return BatchResult(self._isolate(requests, times), times)
        return BatchResult(_split(outputs, requests), times)

    def _predict(self, records: Sequence[Any], times: StageTimes) -> list[Any]:
        outputs: list[Any] = []
        for offset in range(0, len(records), self.max_batch_size):
            chunk = records[offset : offset + self.max_batch_size]
            predicted = predict_batch(self.runner, chunk, offset=offset)
            times.add(predicted.times)
            outputs.extend(predicted.outputs)
        return outputs

    def _isolate(
        self, requests: Sequence[Sequence[Any]], times: StageTimes
    ) -> list[RequestOutcome]:
        outcomes: list[RequestOutcome | None] = [None] * len(requests)
        for index, records in enumerate(requests):
            started = time.perf_counter()
            try:
                self.runner.prepare(records, offset=0)
            except BadInputError as error:
                outcomes[index] = error
            times.prepare_ms += (time.perf_counter() - started) * 1000
        good = [index for index, outcome in enumerate(outcomes) if outcome is None]
        try:
            outputs = self._predict([r for index in good for r in requests[index]], times)
            for index, split in zip(
                good, _split(outputs, [requests[i] for i in good]), strict=True
            ):
                outcomes[index] = split
        except BadInputError:
            for index in good:
                try:
                    outcomes[index] = self._predict(requests[index], times)
                except BadInputError as error:
                    outcomes[index] = error
        return [outcome if outcome is not None else [] for outcome in outcomes]


def _split(outputs: list[Any], requests: Sequence[Sequence[Any]]) -> list[RequestOutcome]:
    split: list[RequestOutcome] = []
    start = 0
    for records in requests:
        split.append(outputs[start : start + len(records)])
        start += len(records)
    return split
