"""Fine-tuning: the pretrained model a training job starts from (`spec.model.pretrained`).

A pretrained model comes from the tenant's store (`uri`, confined like every URI by
`aijob_api.storage`) in one of the `PretrainedFormat`s, or from a model hub by id
(`hubId`, Hugging Face format only), with an optional token read from a Secret of the
job's namespace (`tokenSecret`, given to the pod as `HUB_TOKEN_ENV` by `secretKeyRef`,
never by value; the store's own `aijob-storage` Secret is refused). Which formats a model
type takes is the worker's runner's to say (docs/workers.md); `pretrained_problem` mirrors
the cross-field rules for clients.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import ConfigDict, Field

from aijob_api.code import CONFIG_MAP_PATTERN
from aijob_api.inputs import URI_PATTERN
from aijob_api.wire import WireModel

HUB_TOKEN_ENV: Final = "HF_TOKEN"  # noqa: S105 - a variable's name
"""The variable the hub token reaches the worker in (the one huggingface_hub reads)."""
HUB_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$"
"""A hub repository id: `name` or `org/name`."""
SECRET_KEY_PATTERN: Final = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 - a pattern
"""A key of a Secret's data."""
RESERVED_SECRET: Final = "aijob-storage"  # noqa: S105 - a Secret's name, not a secret
"""The tenant store's Secret (`aijob_api.storage.STORAGE_SECRET`): never a hub token."""


class PretrainedFormat(StrEnum):
    """How a pretrained model is saved."""

    HUGGINGFACE = "huggingface"
    """A transformers model directory (config.json, weights, optionally a tokenizer)."""
    STATE_DICT = "state_dict"
    """A file of `torch.save(model.state_dict())` for a built-in PyTorch network."""
    TORCHSCRIPT = "torchscript"
    """A `torch.jit.save` file whose parameters match a built-in PyTorch network."""
    KERAS = "keras"
    """A `.keras` file of `model.save` for a built-in TensorFlow network."""


class SecretKeyReference(WireModel):
    """One key of a Secret in the job's namespace."""

    name: Annotated[
        str, Field(description="The Secret's name.", max_length=253, pattern=CONFIG_MAP_PATTERN)
    ]
    key: Annotated[
        str, Field(description="The key in the Secret.", max_length=253, pattern=SECRET_KEY_PATTERN)
    ]


class PretrainedModel(WireModel):
    """The model a training job fine-tunes: a saved model in the store, or a hub id."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.uri) != has(self.hubId)",
                    "message": "model.pretrained needs exactly one of uri or hubId",
                },
                {
                    "rule": "!has(self.tokenSecret) || has(self.hubId)",
                    "message": "model.pretrained.tokenSecret is for hubId only",
                    "fieldPath": ".tokenSecret",
                },
                {
                    "rule": "!has(self.hubId) || self.format == 'huggingface'",
                    "message": "model.pretrained.hubId needs format huggingface",
                    "fieldPath": ".format",
                },
                {
                    "rule": "!has(self.tokenSecret) || "
                    f"self.tokenSecret.name != '{RESERVED_SECRET}'",
                    "message": f"model.pretrained.tokenSecret cannot be the store's Secret "
                    f"{RESERVED_SECRET}",
                    "fieldPath": ".tokenSecret.name",
                },
            ]
        }
    )

    uri: Annotated[
        str | None,
        Field(
            description=(
                "The saved model in this namespace's store (s3://<tenant bucket>/...): a "
                "directory for huggingface, a file for the other formats."
            ),
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None
    format: Annotated[
        PretrainedFormat,
        Field(description="How the model is saved: huggingface, state_dict, torchscript, keras."),
    ] = PretrainedFormat.HUGGINGFACE
    hub_id: Annotated[
        str | None,
        Field(
            description="Instead of uri: a hub id (org/name), where the cluster reaches a hub.",
            max_length=253,
            pattern=HUB_ID_PATTERN,
        ),
    ] = None
    token_secret: Annotated[
        SecretKeyReference | None,
        Field(description=f"With hubId: the hub token, given to the worker as {HUB_TOKEN_ENV}."),
    ] = None


PRETRAINED_SPEC_RULES: Final[tuple[dict[str, Any], ...]] = (
    {
        "rule": "!has(self.model.pretrained) || self.task == 'training'",
        "message": "spec.model.pretrained is for training jobs only",
        "fieldPath": ".model.pretrained",
    },
    {
        "rule": "!has(self.model.pretrained) || !has(self.code)",
        "message": "spec.model.pretrained is for built-in models: your own code loads its own",
        "fieldPath": ".model.pretrained",
    },
)
"""The AIJob spec's CEL rules about `model.pretrained` (attached by `aijob_api.spec`)."""


def pretrained_problem(
    *, task: str, pretrained: PretrainedModel | None, has_code: bool
) -> str | None:
    """The first rule about `model.pretrained` a spec breaks, naming the field, or None."""
    if pretrained is None:
        return None
    if task != "training":
        return "model.pretrained: is for training jobs only"
    if has_code:
        return "model.pretrained: is for built-in models: your own code loads its own"
    if (pretrained.uri is None) == (pretrained.hub_id is None):
        return "model.pretrained: needs exactly one of uri or hubId"
    if pretrained.token_secret is not None:
        if pretrained.hub_id is None:
            return "model.pretrained.tokenSecret: is for hubId only"
        if pretrained.token_secret.name == RESERVED_SECRET:
            return (
                f"model.pretrained.tokenSecret.name: cannot be the store's Secret {RESERVED_SECRET}"
            )
    if pretrained.hub_id is not None and pretrained.format is not PretrainedFormat.HUGGINGFACE:
        return "model.pretrained.format: hubId needs format huggingface"
    return None
