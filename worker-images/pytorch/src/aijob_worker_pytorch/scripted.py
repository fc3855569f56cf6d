"""torchscript: a TorchScript model saved by your own code (`spec.code`), for inference.

Your code writes `model.pt` with `torch.jit.save` into `aijob_worker.model_dir()` and calls
`save_model(model_type="torchscript", metadata={"featureNames": [...], "classNames":
[...]})`. Inference jobs and endpoints then load it here: records become a float tensor in
the order of `featureNames` (lists, or objects keyed by those names), the model's output
rows become classifications (softmax over the logits, labelled by `classNames`) or, without
`classNames`, plain lists of numbers. Loading a TorchScript file runs no pickled Python:
only the TorchScript program, and only after the manifest's checksums matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from aijob_worker.data.features import records_to_matrix
from aijob_worker.errors import BadInputError
from aijob_worker.outputs import classification_outputs
from aijob_worker.runners import MODEL_TYPE_FIELD, Runner
from aijob_worker.session import TrainingSession

from aijob_worker_pytorch.device import torch_device

TORCHSCRIPT_FILE = "model.pt"
"""The file `torch.jit.save` writes into the model directory."""
SOURCE_FIELD = "spec.model.source"


class TorchScriptRunner(Runner):
    """Runs a TorchScript model over records; trained only by your own code."""

    framework: ClassVar[str] = "pytorch"
    framework_packages: ClassVar[tuple[str, ...]] = ("torch",)
    model_types: ClassVar[frozenset[str]] = frozenset({"torchscript"})

    def __init__(self, model_type: str) -> None:
        super().__init__(model_type)
        self._device = torch_device()
        self.model: torch.jit.ScriptModule | None = None
        self.feature_names: list[str] = []
        self.class_names: list[str] = []

    def device(self) -> str:
        """`cuda:0` or `cpu`."""
        return str(self._device)

    def _not_trained_here(self) -> BadInputError:
        return BadInputError(
            MODEL_TYPE_FIELD,
            "torchscript models are trained by your own code (spec.code) and only loaded "
            "for inference here",
        )

    def prepare_training(self, session: TrainingSession) -> None:
        """Refused: write a script (spec.code) that saves one."""
        raise self._not_trained_here()

    def train(self, session: TrainingSession) -> dict[str, float]:
        """Refused (see prepare_training)."""
        raise self._not_trained_here()

    def save(self, model_dir: Path) -> dict[str, Any]:
        """Refused (see prepare_training)."""
        raise self._not_trained_here()

    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        """Load `model.pt` onto the device; the metadata names the features and classes."""
        features = metadata.get("featureNames")
        if not isinstance(features, list) or not features:
            raise BadInputError(
                SOURCE_FIELD,
                "a torchscript model needs metadata featureNames (save_model(metadata=...))",
            )
        self.feature_names = [str(name) for name in features]
        self.class_names = [str(name) for name in metadata.get("classNames") or []]
        path = model_dir / TORCHSCRIPT_FILE
        if not path.is_file():
            raise BadInputError(SOURCE_FIELD, f"no {TORCHSCRIPT_FILE} in the torchscript model")
        try:
            model = torch.jit.load(  # type: ignore[no-untyped-call]  # torch leaves it untyped
                str(path), map_location=self._device
            )
        except RuntimeError as error:
            problem = f"{TORCHSCRIPT_FILE} is not TorchScript: {error}"
            raise BadInputError(SOURCE_FIELD, problem) from error
        self.model = model.eval()

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        """Records to a float tensor on the device, in the order of featureNames."""
        matrix = records_to_matrix(records, self.feature_names, offset=offset)
        return torch.from_numpy(matrix).to(self._device)

    @torch.no_grad()
    def infer(self, prepared: Any) -> Any:
        """The model's output: class probabilities with classNames, else the raw rows."""
        assert self.model is not None
        output = self.model(prepared)
        if self.class_names:
            output = torch.softmax(output, dim=1)
        return output.cpu().numpy()

    def postprocess(self, raw: Any) -> list[Any]:
        """A classification per record with classNames, else its output as a list."""
        if self.class_names:
            return classification_outputs(raw, self.class_names)
        return [row.tolist() for row in raw]
