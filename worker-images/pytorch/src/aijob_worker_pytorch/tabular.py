"""mlp and cnn: PyTorch classifiers on tabular rows (or square images given as rows).

The training loop, checkpoints and inference here serve every network over
rows; the image families (resnet, vgg, alexnet in `vision`) differ from the
cnn only in the network `SquareImageRunner` subclasses build.

A plain training loop: mini-batches from a seeded permutation, Adam, cross
entropy. After every batch the session records the step (and stops with a
checkpoint on SIGTERM); after every epoch it reports the training loss and the
held-out loss and accuracy. A checkpoint holds the model, the optimizer and
the random generator, so a resumed attempt continues where this one stopped.
Fine-tuning (`model.pretrained`, a state-dict or TorchScript file of the same
configuration) loads the file's weights into the network before the first epoch.
In a pod of several processes (torchrun, `spec.distributed.processesPerNode`) every rank
runs this loop on its share of each epoch's permutation, the model wrapped in
DistributedDataParallel (one process per GPU, or gloo on the CPU); rank 0 checkpoints and
saves the model. There the stop check is the group's (`device.GroupStop`, one all-reduce at
every step's and epoch's end, the same count on every rank): on SIGTERM all ranks stop
after the same step and rank 0 checkpoints it, where each rank's own flag would stop one
while another waits for it in a gradient all-reduce until SIGKILL.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar

import torch
from aijob_api.pretrained import PretrainedFormat
from aijob_worker.data.features import records_to_matrix
from aijob_worker.data.tabular import TabularData, load_tabular
from aijob_worker.errors import BadInputError
from aijob_worker.hyperparameters import Hyperparameters, OptimizerHyperparameters
from aijob_worker.outputs import classification_outputs
from aijob_worker.pretrained import fetch_file
from aijob_worker.runners import Runner
from aijob_worker.session import TrainingSession
from pydantic import Field
from pydantic.alias_generators import to_snake
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from aijob_worker_pytorch.device import GroupStop, join_group, torch_device
from aijob_worker_pytorch.networks import Standardize, cnn, mlp
from aijob_worker_pytorch.pretrained_weights import WEIGHT_FORMATS, load_weights

MODEL_FILE = "model.pt"
CHECKPOINT_FILE = "checkpoint.pt"
EVAL_BATCH = 1024


class TabularHyperparameters(OptimizerHyperparameters):
    """Epochs, learning rate, batch size, seed, and L2 weight decay."""

    epochs: Annotated[int, Field(ge=1, le=10_000, description="Passes over the data.")] = 20
    weight_decay: Annotated[float, Field(ge=0, le=1, description="Adam's L2 penalty.")] = 0.0


class MLPHyperparameters(TabularHyperparameters):
    """Hidden layer widths and dropout."""

    hidden_units: Annotated[
        list[Annotated[int, Field(ge=1, le=8192)]],
        Field(min_length=1, max_length=8, description="Units of each hidden layer."),
    ] = Field(default_factory=lambda: [128, 64])
    dropout: Annotated[float, Field(ge=0, lt=1, description="Dropout after each layer.")] = 0.1


class CNNHyperparameters(TabularHyperparameters):
    """Filters per convolution block and the dense head's width."""

    filters: Annotated[
        list[Annotated[int, Field(ge=1, le=1024)]],
        Field(min_length=1, max_length=6, description="Filters of each convolution block."),
    ] = Field(default_factory=lambda: [16, 32])
    dense_units: Annotated[int, Field(ge=1, le=8192, description="Units of the dense head.")] = 64


class TabularNetRunner(Runner):
    """Base of the PyTorch tabular runners; subclasses name the network and what shapes it.

    A model's architecture (kept in its metadata) is the `builder`'s keyword
    arguments in camelCase: the data's shape (`input_shape`), `classes`, and
    the hyperparameters named in `settings`, so `network` rebuilds it for
    inference from the metadata alone.
    """

    framework: ClassVar[str] = "pytorch"
    framework_packages: ClassVar[tuple[str, ...]] = ("torch", "numpy")
    pretrained_formats: ClassVar[frozenset[PretrainedFormat]] = WEIGHT_FORMATS
    distributed: ClassVar[bool] = True
    builder: ClassVar[Callable[..., nn.Sequential]]
    """Builds the network; its first layer is a `Standardize`."""
    settings: ClassVar[tuple[str, ...]]
    """The hyperparameters passed to the builder (the builder's parameters of the same names)."""

    def __init__(self, model_type: str) -> None:
        super().__init__(model_type)
        self.data: TabularData | None = None
        self.model: nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.generator = torch.Generator()
        self.architecture: dict[str, Any] = {}
        self.feature_names: list[str] = []
        self.class_names: list[str] = []
        self._device = torch_device()
        self._rank, self._world_size = 0, 1

    def device(self) -> str:
        """`cuda:0` or `cpu`."""
        return str(self._device)

    @abstractmethod
    def input_shape(self, data: TabularData) -> dict[str, int]:
        """The builder's arguments the data decides (`features`, or an image's `side`)."""

    def architecture_for(
        self, data: TabularData, hyperparameters: Hyperparameters
    ) -> dict[str, Any]:
        """What `network` needs to rebuild the model (kept in the model's metadata)."""
        return {
            "kind": self.model_type,
            **self.input_shape(data),
            "classes": data.n_classes,
            **hyperparameters.model_dump(by_alias=True, include=set(self.settings)),
        }

    @classmethod
    def network(cls, architecture: Mapping[str, Any]) -> nn.Sequential:
        """The network an architecture describes."""
        return cls.builder(
            **{to_snake(name): value for name, value in architecture.items() if name != "kind"}
        )

    # Training.
    def prepare_training(self, session: TrainingSession) -> None:
        """Seed, load the data, build the network and optimizer, restore a checkpoint."""
        hyperparameters = session.hyperparameters_as(TabularHyperparameters)
        self._rank, self._world_size = join_group()
        torch.manual_seed(hyperparameters.seed)
        self.generator.manual_seed(hyperparameters.seed)
        data = load_tabular(session.dataset, seed=hyperparameters.seed)
        self.data = data
        self.feature_names, self.class_names = data.feature_names, data.class_names
        self.architecture = self.architecture_for(data, hyperparameters)
        model = self.network(self.architecture)
        standardize = model[0]
        assert isinstance(standardize, Standardize)
        standardize.fit(torch.from_numpy(data.x_train))
        self.model = model.to(self._device)
        pretrained = session.spec.model.pretrained
        if pretrained is not None and session.resume is None:  # else the checkpoint's weights
            path = fetch_file(pretrained, session.work_dir)
            uri = str(pretrained.uri)
            load_weights(self.model, path, pretrained.format, uri=uri, device=self._device)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(),
            lr=hyperparameters.learning_rate,
            weight_decay=hyperparameters.weight_decay,
        )
        if session.resume is not None:
            state = torch.load(
                session.resume.directory / CHECKPOINT_FILE,
                map_location=self._device,
                weights_only=True,
            )
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.generator.set_state(state["generator"])

    def _save_state(self, directory: Path) -> None:
        assert self.model is not None
        assert self.optimizer is not None
        torch.save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "generator": self.generator.get_state(),
            },
            directory / CHECKPOINT_FILE,
        )

    def train(self, session: TrainingSession) -> dict[str, float]:
        """The epochs left, batch by batch, with a report after each batch and epoch."""
        assert self.data is not None
        assert self.model is not None
        assert self.optimizer is not None
        hyperparameters = session.hyperparameters_as(TabularHyperparameters)
        x = torch.from_numpy(self.data.x_train).to(self._device)
        y = torch.from_numpy(self.data.y_train).to(self._device)
        network = self._parallel()
        if self._world_size > 1:  # step_end and epoch_end check the group's flag, as one
            session.stop = GroupStop(session.stop, self._device)
        # Each rank trains on its equal share of every epoch's order (the same on all ranks).
        share = len(x) // self._world_size
        batch_size = hyperparameters.batch_size
        steps_per_epoch = math.ceil(share / batch_size)
        total_steps = steps_per_epoch * hyperparameters.epochs
        step = session.start_epoch * steps_per_epoch
        loss_function = nn.CrossEntropyLoss()
        for epoch in range(session.start_epoch + 1, hyperparameters.epochs + 1):
            self.model.train()
            order = torch.randperm(len(x), generator=self.generator).to(self._device)
            order = order[self._rank * share : (self._rank + 1) * share]
            running = torch.zeros((), device=self._device)
            for start in range(0, share, batch_size):
                index = order[start : start + batch_size]
                self.optimizer.zero_grad()
                loss = loss_function(network(x[index]), y[index])
                loss.backward()
                self.optimizer.step()
                running += loss.detach() * len(index)
                step += 1
                session.step_end(
                    epoch=epoch - 1, step=step, total_steps=total_steps, save=self._save_state
                )
            if self._world_size > 1:
                torch.distributed.all_reduce(running)  # the whole group's loss
            metrics = {"loss": float(running) / (share * self._world_size), **self.evaluate()}
            session.epoch_end(
                epoch=epoch,
                total_epochs=hyperparameters.epochs,
                metrics=metrics,
                save=self._save_state,
                step=step,
                total_steps=total_steps,
            )
        return self.evaluate()

    def _parallel(self) -> nn.Module:
        """The model, wrapped in DistributedDataParallel in a group of processes."""
        assert self.model is not None
        if self._world_size == 1:
            return self.model
        on_gpu = self._device.type == "cuda"
        return DistributedDataParallel(self.model, device_ids=[self._device] if on_gpu else None)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Loss and accuracy on the held-out rows."""
        assert self.data is not None
        assert self.model is not None
        self.model.eval()
        x = torch.from_numpy(self.data.x_test).to(self._device)
        y = torch.from_numpy(self.data.y_test).to(self._device)
        logits = torch.cat(
            [self.model(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)]
        )
        return {
            "accuracy": float((logits.argmax(dim=1) == y).float().mean()),
            "valLoss": float(nn.functional.cross_entropy(logits, y)),
        }

    def save(self, model_dir: Path) -> dict[str, Any]:
        """The state dict, and the architecture and names to rebuild and label it."""
        assert self.model is not None
        torch.save(self.model.state_dict(), model_dir / MODEL_FILE)
        return {
            "architecture": self.architecture,
            "featureNames": self.feature_names,
            "classNames": self.class_names,
        }

    # Inference.
    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        """Rebuild the network and load its weights (weights only: no code is unpickled)."""
        self.architecture = dict(metadata["architecture"])
        self.feature_names = list(metadata["featureNames"])
        self.class_names = list(metadata["classNames"])
        model = self.network(self.architecture)
        model.load_state_dict(
            torch.load(model_dir / MODEL_FILE, map_location=self._device, weights_only=True)
        )
        self.model = model.to(self._device).eval()

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        """Records to a float tensor on the device."""
        matrix = records_to_matrix(records, self.feature_names, offset=offset)
        return torch.from_numpy(matrix).to(self._device)

    @torch.no_grad()
    def infer(self, prepared: Any) -> Any:
        """Class probabilities."""
        assert self.model is not None
        return torch.softmax(self.model(prepared), dim=1).cpu().numpy()

    def postprocess(self, raw: Any) -> list[Any]:
        """Prediction, confidence and class probabilities per record."""
        return classification_outputs(raw, self.class_names)


class MLPRunner(TabularNetRunner):
    """mlp: a multi-layer perceptron."""

    model_types: ClassVar[frozenset[str]] = frozenset({"mlp"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = MLPHyperparameters
    builder = mlp
    settings = ("hidden_units", "dropout")

    def input_shape(self, data: TabularData) -> dict[str, int]:
        """The number of features."""
        return {"features": data.n_features}


class SquareImageRunner(TabularNetRunner):
    """Base of the image classifiers: each row is a square one-channel image."""

    def input_shape(self, data: TabularData) -> dict[str, int]:
        """The image's side (bad input unless the features make a square)."""
        side = math.isqrt(data.n_features)
        if side * side != data.n_features:
            raise BadInputError(
                "spec.dataset",
                f"a convolutional model needs square images; {data.n_features} features "
                "are not a perfect square (use digits, or a CSV of N*N pixel columns)",
            )
        return {"side": side}


class CNNRunner(SquareImageRunner):
    """cnn: a small convolutional network over square images (digits, or N*N pixel CSVs)."""

    model_types: ClassVar[frozenset[str]] = frozenset({"cnn"})
    hyperparameters_model: ClassVar[type[Hyperparameters]] = CNNHyperparameters
    builder = cnn
    settings = ("filters", "dense_units")
