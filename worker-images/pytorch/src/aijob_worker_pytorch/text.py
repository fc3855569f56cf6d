"""bert, distilbert, gpt, transformer, text_classifier: transformer text classifiers.

Without a base model the network is a small, randomly initialised BERT
(bert, transformer, text_classifier), DistilBERT or GPT-2 (gpt: a causal
decoder that classifies from its last non-padding token) built from a
configuration (sizes are hyperparameters), with a tokenizer trained on the
job's texts. With one (`model.pretrained`: a Hugging Face directory in the
store or a hub id; or, as before, `model.source.uri` or the `modelDir`
hyperparameter) that model is fine-tuned (`aijob_worker_pytorch.pretrained_text`).
Training runs in the transformers `Trainer` with `AIJobTrainerCallback`: steps,
epochs and logged metrics become progress; on SIGTERM the Trainer saves a
checkpoint (model, optimizer, scheduler, random state), the runtime uploads it
and reports it, and the next attempt resumes from it with `resume_from_checkpoint`.
In a pod of several processes (torchrun, `spec.distributed.processesPerNode`) each rank runs
the Trainer (DDP, its share of each epoch, the group's losses), in rank 0's output directory;
the ranks stop after the same step; rank 0 alone publishes checkpoints and saves the model.
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import torch
from aijob_api.pretrained import PretrainedFormat
from aijob_worker.data.text import TextData, load_text
from aijob_worker.errors import BadInputError, JobInterruptedError
from aijob_worker.hyperparameters import Hyperparameters, OptimizerHyperparameters
from aijob_worker.integrations.transformers import AIJobTrainerCallback
from aijob_worker.outputs import classification_outputs
from aijob_worker.pretrained import fetch_directory, hub_token, source_field
from aijob_worker.runners import Runner
from aijob_worker.session import TrainingSession
from aijob_worker.storage import storage_for
from pydantic import Field
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    DistilBertConfig,
    GPT2Config,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PrinterCallback,
    Trainer,
    TrainerState,
    TrainingArguments,
)

from aijob_worker_pytorch import device as group
from aijob_worker_pytorch.pretrained_text import load_pretrained_text
from aijob_worker_pytorch.tokenizer import MODEL_INPUTS, train_tokenizer

logger = logging.getLogger(__name__)

TRAINER_CHECKPOINT = "trainer"
"""Subdirectory of an aijob checkpoint holding the Trainer's own checkpoint."""


class TextHyperparameters(OptimizerHyperparameters):
    """Model sizes (for a model built from scratch), sequence length, optional base model."""

    epochs: Annotated[int, Field(ge=1, le=1_000, description="Passes over the data.")] = 4
    learning_rate: Annotated[float, Field(gt=0, le=1, description="AdamW step size.")] = 2e-3
    batch_size: Annotated[int, Field(ge=1, le=4096, description="Texts per step.")] = 16
    hidden_size: Annotated[int, Field(ge=8, le=4096, description="Hidden width.")] = 64
    num_layers: Annotated[int, Field(ge=1, le=48, description="Transformer layers.")] = 2
    num_heads: Annotated[int, Field(ge=1, le=64, description="Attention heads.")] = 2
    intermediate_size: Annotated[int, Field(ge=8, le=16_384, description="Feed-forward width.")] = (
        128
    )
    max_length: Annotated[int, Field(ge=4, le=4096, description="Tokens per text.")] = 32
    vocab_size: Annotated[
        int, Field(ge=16, le=200_000, description="Largest vocabulary to learn.")
    ] = 4000
    model_dir: Annotated[
        str | None,
        Field(
            description="A saved model directory (file:// or s3://) to fine-tune.",
            pattern=r"^(file|s3)://.+",
        ),
    ] = None


class EncodedTexts(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """Tokenised texts (padded to the maximum length) with their labels."""

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], labels: Sequence[int]
    ) -> None:
        encoded = tokenizer(list(texts), padding="max_length", truncation=True, return_tensors="pt")
        self.inputs = {name: encoded[name] for name in MODEL_INPUTS}
        self.labels = torch.tensor(list(labels), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = {name: values[index] for name, values in self.inputs.items()}
        item["labels"] = self.labels[index]
        return item


SIZES = ("hidden_size", "num_layers", "num_heads", "intermediate_size", "max_length")
"""The size hyperparameters, in the order of each configuration's own names in CONFIGS."""

BERT = (
    BertConfig,
    (
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "max_position_embeddings",
    ),
)

CONFIGS: Mapping[str, tuple[type[PretrainedConfig], tuple[str, ...]]] = {
    "bert": BERT,
    "transformer": BERT,
    "text_classifier": BERT,
    "distilbert": (
        DistilBertConfig,
        ("dim", "n_layers", "n_heads", "hidden_dim", "max_position_embeddings"),
    ),
    "gpt": (GPT2Config, ("n_embd", "n_layer", "n_head", "n_inner", "n_positions")),
}
"""Model type to the network built from scratch: its configuration class, its names for SIZES."""
EVERY_PARAMETER_USED = frozenset(config.model_type for config, _ in CONFIGS.values())
"""Architectures whose classifiers use every parameter: DDP need not look for unused ones."""


def network_config(
    model_type: str,
    hyperparameters: TextHyperparameters,
    tokenizer: PreTrainedTokenizerBase,
    class_names: Sequence[str],
) -> PretrainedConfig:
    """The configuration of a model type's network, sized by the hyperparameters.

    [CLS] and [SEP] are its bos and eos tokens; GPT-2 classifies from a text's
    last token that is not the pad token ([SEP] here).
    """
    config_class, names = CONFIGS[model_type]
    sizes = {name: getattr(hyperparameters, size) for name, size in zip(names, SIZES, strict=True)}
    return config_class(
        **sizes,
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        id2label=dict(enumerate(class_names)),
        label2id={name: index for index, name in enumerate(class_names)},
    )


def accuracy(prediction: Any) -> dict[str, float]:
    """Accuracy of the Trainer's evaluation predictions."""
    logits, labels = prediction
    return {"accuracy": float((np.argmax(logits, axis=-1) == labels).mean())}


class TextClassifierRunner(Runner):
    """Transformer text classification with the Hugging Face Trainer."""

    framework: ClassVar[str] = "pytorch"
    framework_packages: ClassVar[tuple[str, ...]] = (
        "torch",
        "transformers",
        "tokenizers",
        "accelerate",
    )
    model_types: ClassVar[frozenset[str]] = frozenset(CONFIGS)
    hyperparameters_model: ClassVar[type[Hyperparameters]] = TextHyperparameters
    pretrained_formats: ClassVar[frozenset[PretrainedFormat]] = frozenset(
        {PretrainedFormat.HUGGINGFACE}
    )
    distributed: ClassVar[bool] = True

    def __init__(self, model_type: str) -> None:
        super().__init__(model_type)
        self.data: TextData | None = None
        self.model: PreTrainedModel | None = None
        self.tokenizer: PreTrainedTokenizerBase | None = None
        self.class_names: list[str] = []
        self._device = group.torch_device()
        self._world_size = 1

    def device(self) -> str:
        """`cuda:<local rank>` or `cpu`."""
        return str(self._device)

    # Training.
    def prepare_training(self, session: TrainingSession) -> None:
        """Load the texts; restore the checkpoint, load the base model, or build one."""
        hyperparameters = session.hyperparameters_as(TextHyperparameters)
        _, self._world_size = group.join_group()
        torch.manual_seed(hyperparameters.seed)
        self.data = load_text(session.dataset, seed=hyperparameters.seed)
        self.class_names = self.data.class_names
        if session.resume is not None:
            checkpoint = session.resume.directory / TRAINER_CHECKPOINT
            self.tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                checkpoint, local_files_only=True
            )
            return
        pretrained = session.spec.model.pretrained
        if pretrained is not None:  # its format checked against pretrained_formats already
            location: str | Path = (
                fetch_directory(pretrained, session.work_dir)
                if pretrained.uri is not None
                else str(pretrained.hub_id)
            )
            self._load_base(location, source_field(pretrained), hyperparameters, hub_token())
            return
        base = hyperparameters.model_dir or (
            session.spec.model.source.uri if session.spec.model.source else None
        )
        if base is None:
            self._build(hyperparameters)
            return
        field = (
            "spec.model.hyperparameters.modelDir"
            if hyperparameters.model_dir
            else "spec.model.source.uri"
        )
        local = session.work_dir / "base"
        try:
            storage_for(base).get_tree(base, local)
        except Exception as error:  # a missing prefix: OSError here, botocore's errors in s3
            raise BadInputError(field, f"cannot download {base}: {error}") from error
        self._load_base(local, field, hyperparameters, None)

    def _build(self, hyperparameters: TextHyperparameters) -> None:
        assert self.data is not None
        if hyperparameters.hidden_size % hyperparameters.num_heads:
            raise BadInputError(
                "spec.model.hyperparameters.hiddenSize",
                f"{hyperparameters.hidden_size} is not a multiple of numHeads "
                f"({hyperparameters.num_heads})",
            )
        self.tokenizer = train_tokenizer(
            self.data.train_texts,
            vocab_size=hyperparameters.vocab_size,
            max_length=hyperparameters.max_length,
        )
        config = network_config(self.model_type, hyperparameters, self.tokenizer, self.class_names)
        self.model = AutoModelForSequenceClassification.from_config(config)

    def _load_base(
        self,
        location: str | Path,
        field: str,
        hyperparameters: TextHyperparameters,
        token: str | None,
    ) -> None:
        assert self.data is not None
        self.tokenizer, self.model = load_pretrained_text(
            location,
            field=field,
            class_names=self.class_names,
            max_length=hyperparameters.max_length,
            train_texts=self.data.train_texts,
            token=token,
        )

    def train(self, session: TrainingSession) -> dict[str, float]:
        """Run the Trainer (resuming when there is a checkpoint); return held-out metrics."""
        assert self.data is not None
        assert self.model is not None
        assert self.tokenizer is not None
        hyperparameters = session.hyperparameters_as(TextHyperparameters)
        output_dir = group.shared_path(session.work_dir / "trainer-output")  # rank 0's, for all
        train_set = EncodedTexts(self.tokenizer, self.data.train_texts, self.data.train_labels)
        test_set = EncodedTexts(self.tokenizer, self.data.test_texts, self.data.test_labels)
        batches = math.ceil(len(train_set) / hyperparameters.batch_size)
        steps_per_epoch = math.ceil(batches / self._world_size)  # each rank's share

        def on_epoch(state: TrainerState, metrics: dict[str, float]) -> None:
            session.record_epoch(
                epoch=round(state.epoch or 0),
                total_epochs=hyperparameters.epochs,
                metrics=metrics,
                step=state.global_step,
                total_steps=state.max_steps,
            )

        def on_save(state: TrainerState) -> None:
            group.barrier()  # every rank has written its part of the checkpoint
            if not session.rank.is_main:
                return
            directory = output_dir / f"checkpoint-{state.global_step}"
            staging = session.work_dir / "checkpoint-staging"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(directory, staging / TRAINER_CHECKPOINT)
            self.tokenizer.save_pretrained(staging / TRAINER_CHECKPOINT)  # type: ignore[union-attr]
            epoch = math.floor((state.epoch or 0) + 1e-9)
            session.publish_checkpoint(staging, epoch=epoch, step=state.global_step)
            shutil.rmtree(staging, ignore_errors=True)

        callback = AIJobTrainerCallback(  # the reporter of a rank > 0 writes its own entry
            reporter=session.reporter,
            stop=group.GroupStop(session.stop, self._device),
            on_epoch=on_epoch,
            on_save=on_save,
            every_process=True,
        )
        every = hyperparameters.checkpoint_every_epochs
        arguments = TrainingArguments(
            output_dir=str(output_dir),
            num_train_epochs=hyperparameters.epochs,
            per_device_train_batch_size=hyperparameters.batch_size,
            per_device_eval_batch_size=256,
            learning_rate=hyperparameters.learning_rate,
            seed=hyperparameters.seed,
            data_seed=hyperparameters.seed,
            eval_strategy="epoch",
            logging_strategy="steps",
            logging_steps=max(1, steps_per_epoch // 4),
            save_strategy="steps" if every else "no",
            save_steps=every * steps_per_epoch if every else 500,
            save_total_limit=1,
            report_to="none",
            disable_tqdm=True,
            use_cpu=self._device.type == "cpu",
            dataloader_num_workers=0,
            ddp_backend=group.group_backend() if self._world_size > 1 else None,
            average_tokens_across_devices=False,  # mean losses per text, not scaled by ranks
            ddp_find_unused_parameters=self.model.config.model_type not in EVERY_PARAMETER_USED,
        )
        trainer = Trainer(
            model=self.model,
            args=arguments,
            train_dataset=train_set,
            eval_dataset=test_set,
            compute_metrics=accuracy,
            callbacks=[callback],
        )
        trainer.remove_callback(PrinterCallback)  # the runtime logs and reports instead
        resume_from = str(session.resume.directory / TRAINER_CHECKPOINT) if session.resume else None
        trainer.train(resume_from_checkpoint=resume_from)
        if callback.stopped:
            checkpoint = session.last_checkpoint
            raise JobInterruptedError(checkpoint.uri if checkpoint else None)
        self.model = trainer.model
        evaluation = trainer.evaluate()
        return {
            "accuracy": float(evaluation["eval_accuracy"]),
            "loss": float(evaluation["eval_loss"]),
        }

    def save(self, model_dir: Path) -> dict[str, Any]:
        """The model and tokenizer in the transformers format (safetensors weights)."""
        assert self.model is not None
        assert self.tokenizer is not None
        self.model.save_pretrained(model_dir)
        self.tokenizer.save_pretrained(model_dir)
        return {"classNames": self.class_names, "architecture": self.model.config.model_type}

    # Inference.
    def load(self, model_dir: Path, metadata: Mapping[str, Any]) -> None:
        """Load the model directory (local files only)."""
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.tokenizer.model_input_names = MODEL_INPUTS
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, local_files_only=True)
        self.model = model.to(self._device).eval()
        self.class_names = list(metadata["classNames"])

    def prepare(self, records: Sequence[Any], *, offset: int) -> Any:
        """Texts (strings or `{"text": ...}`) to padded token tensors on the device."""
        assert self.tokenizer is not None
        texts = []
        for index, record in enumerate(records):
            text = record.get("text") if isinstance(record, Mapping) else record
            if not isinstance(text, str):
                raise BadInputError(
                    f"spec.input.records[{offset + index}]",
                    'expected a string or {"text": "..."} for a text model',
                )
            texts.append(text)
        encoded = self.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        return {name: encoded[name].to(self._device) for name in MODEL_INPUTS}

    @torch.no_grad()
    def infer(self, prepared: Any) -> Any:
        """Class probabilities."""
        assert self.model is not None
        logits = self.model(**prepared).logits
        return torch.softmax(logits, dim=-1).cpu().numpy()

    def postprocess(self, raw: Any) -> list[Any]:
        """Prediction, confidence and class probabilities per text."""
        return classification_outputs(raw, self.class_names)
