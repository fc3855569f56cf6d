"""A pretrained transformers model to fine-tune as a text classifier, with its tokenizer.

The model comes from a local directory (downloaded from the store: `model.pretrained.uri`,
`model.source.uri` or the `modelDir` hyperparameter) or from a hub id
(`model.pretrained.hubId`, with the pod's hub token: `snapshot_download`, which with
`HF_HUB_OFFLINE` set reads the hub cache only), loaded with `from_pretrained`, its
classification head resized to the job's classes. Its tokenizer is used when the model
has one; without one (a model saved from a configuration alone) a word-level tokenizer
is trained on the job's texts and the embeddings resized to it. What cannot be loaded is
bad input naming the field the model came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aijob_worker.errors import BadInputError
from huggingface_hub import snapshot_download
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from aijob_worker_pytorch.tokenizer import MODEL_INPUTS, train_tokenizer

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
)
"""Files of which one means a saved model directory holds its tokenizer."""


def load_pretrained_text(
    location: str | Path,
    *,
    field: str,
    class_names: Sequence[str],
    max_length: int,
    train_texts: Sequence[str],
    token: str | None = None,
) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """The tokenizer and sequence classifier of a model directory (a Path) or hub id (a str)."""
    directory = location if isinstance(location, Path) else _from_hub(location, field, token)
    labels = dict(enumerate(class_names))
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            directory,
            local_files_only=True,
            num_labels=len(labels),
            id2label=labels,
            label2id={name: index for index, name in labels.items()},
            ignore_mismatched_sizes=True,
        )
        tokenizer = _tokenizer(directory, max_length=max_length)
    except (OSError, ValueError, KeyError) as error:
        raise BadInputError(field, f"cannot load a Hugging Face model from it: {error}") from error
    if tokenizer is None:
        tokenizer = train_tokenizer(
            train_texts, vocab_size=model.config.vocab_size, max_length=max_length
        )
        model.resize_token_embeddings(len(tokenizer))
        model.config.pad_token_id = tokenizer.pad_token_id
    tokenizer.model_input_names = MODEL_INPUTS
    if tokenizer.pad_token is None:  # GPT-2 checkpoints have none: pad with eos
        if tokenizer.eos_token is None:
            raise BadInputError(field, "its tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model


def _from_hub(hub_id: str, field: str, token: str | None) -> Path:
    """The hub repository's files, downloaded (or, offline, from the hub cache)."""
    try:
        return Path(snapshot_download(repo_id=hub_id, token=token))
    except Exception as error:  # offline misses, HTTP errors, unknown repositories alike
        raise BadInputError(field, f"cannot fetch {hub_id} from the hub: {error}") from error


def _tokenizer(directory: Path, *, max_length: int) -> PreTrainedTokenizerBase | None:
    """The model's own tokenizer, or None when its directory holds none (transformers
    would otherwise make an empty one of the model's tokenizer class)."""
    if not any((directory / name).is_file() for name in TOKENIZER_FILES):
        return None
    return AutoTokenizer.from_pretrained(
        directory, local_files_only=True, model_max_length=max_length
    )
