"""The user's own environment, Secrets, volumes and placement of an AIJob's worker pod.

`spec.env` sets variables (a value, or one key of a Secret), `spec.envFrom` every key of a
Secret, `spec.volumes` mounts PersistentVolumeClaims, `spec.placement` picks a GPU product
(the `nvidia.com/gpu.product` node label) and, where the runtime catalog allows the keys, a
node selector. Every Secret and claim is named, never namespaced: a pod can only reach
those of its own namespace, so a job can only name its tenant's own. Which of them a
tenant's jobs may name is the administrator's allow-list (`aijob_api.tenant_resources`).

The rules that need nothing but the spec live here, and the spec's validator calls
`environment_problem`: a variable name is a C identifier that the runtime does not set
(`AIJOB_` and the store's variables, HOME, TMPDIR); a mount path is absolute, free of `.`
and `..` segments and of the runtime's own mounts (`RESERVED_MOUNT_PATHS`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Final

from pydantic import Field

from aijob_api import contract
from aijob_api.code import CONFIG_MAP_PATTERN
from aijob_api.status_report import TOKEN_MOUNT_DIR
from aijob_api.validation import (
    LABEL_VALUE_PATTERN,
    MAX_LABEL_VALUE_LENGTH,
    labels_problem,
)
from aijob_api.wire import WireModel

ENV_NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""A variable name every shell and Python accept (a C identifier)."""
RESERVED_ENV_PREFIX: Final = "AIJOB_"
"""The worker contract's variables (`aijob_api.contract`) all start so."""
RESERVED_ENV_NAMES: Final = frozenset(
    {
        "HOME",
        "TMPDIR",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
    }
)
"""Variables the runtime sets on every worker: the scratch directory and the store's."""
RESERVED_MOUNT_PATHS: Final = (
    "/var/lib/aijob",
    contract.SCRATCH_MOUNT_PATH,
    contract.SPEC_MOUNT_PATH,
    contract.TERMINATION_MESSAGE_PATH,
    TOKEN_MOUNT_DIR,
)
"""The runtime's own mounts (the artifacts and the code below /var/lib/aijob, the scratch, the
spec file, the status channel's token): a user
volume may be neither on, below nor above one of them."""
GPU_PRODUCT_LABEL: Final = "nvidia.com/gpu.product"
"""The node label (NVIDIA's GPU feature discovery) `placement.gpuProduct` selects on."""
MAX_ENV: Final = 128
MAX_VOLUMES: Final = 16
MAX_SECRET_REFS: Final = 16
MOUNT_PATH_PATTERN: Final = r"^/[A-Za-z0-9_.@+=/-]*$"
SUB_PATH_PATTERN: Final = r"^[A-Za-z0-9_.@+=-]+(/[A-Za-z0-9_.@+=-]+)*$"
SECRET_KEY_PATTERN: Final = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 - a pattern of key names

ObjectName = Annotated[str, Field(max_length=253, pattern=CONFIG_MAP_PATTERN)]
"""The name of a Secret or a PersistentVolumeClaim (a DNS subdomain) of the job's namespace."""


class SecretKeySelector(WireModel):
    """One key of a Secret of the job's namespace (there is no namespace to name)."""

    name: Annotated[ObjectName, Field(description="The Secret, in the job's namespace.")]
    key: Annotated[
        str, Field(description="The key in the Secret.", max_length=253, pattern=SECRET_KEY_PATTERN)
    ]


class EnvVarSource(WireModel):
    """Where a variable's value comes from."""

    secret_key_ref: Annotated[SecretKeySelector, Field(description="A key of a Secret.")]


class EnvVar(WireModel):
    """One environment variable of the worker: a value, or a Secret's key."""

    name: Annotated[
        str, Field(description="The variable.", max_length=256, pattern=ENV_NAME_PATTERN)
    ]
    value: Annotated[str | None, Field(description="Its value.", max_length=32768)] = None
    value_from: Annotated[
        EnvVarSource | None, Field(description="Instead of value: a key of a Secret.")
    ] = None


class SecretRef(WireModel):
    """A whole Secret of the job's namespace."""

    name: Annotated[ObjectName, Field(description="The Secret, in the job's namespace.")]


class EnvFromSource(WireModel):
    """Every key of a Secret as a variable (the keys must be valid variable names)."""

    secret_ref: Annotated[SecretRef, Field(description="The Secret.")]


class VolumeSpec(WireModel):
    """A PersistentVolumeClaim of the job's namespace, mounted in the worker."""

    claim_name: Annotated[ObjectName, Field(description="The claim, in the job's namespace.")]
    mount_path: Annotated[
        str,
        Field(
            description="Absolute path in the worker, outside the runtime's own mounts "
            f"({', '.join(RESERVED_MOUNT_PATHS)}).",
            max_length=1024,
            pattern=MOUNT_PATH_PATTERN,
        ),
    ]
    read_only: Annotated[bool, Field(description="Mount read-only (the default).")] = True
    sub_path: Annotated[
        str | None,
        Field(
            description="A directory of the volume to mount instead of its root.",
            max_length=1024,
            pattern=SUB_PATH_PATTERN,
        ),
    ] = None


class PlacementSpec(WireModel):
    """Where the worker may run, on top of the runtime catalog's own placement."""

    gpu_product: Annotated[
        str | None,
        Field(
            description=f"A GPU model: the node label {GPU_PRODUCT_LABEL} (e.g. "
            "NVIDIA-H100-80GB-HBM3); needs resources.gpu.",
            min_length=1,
            max_length=MAX_LABEL_VALUE_LENGTH,
            pattern=LABEL_VALUE_PATTERN,
        ),
    ] = None
    node_selector: Annotated[
        dict[str, str],
        Field(description="Node labels to require; only keys the runtime catalog allows."),
    ] = Field(default_factory=dict)


EnvField = Annotated[
    list[EnvVar],
    Field(
        description="Environment variables of the worker (a value or a Secret's key).",
        max_length=MAX_ENV,
    ),
]
EnvFromField = Annotated[
    list[EnvFromSource],
    Field(
        description="Secrets of the job's namespace whose keys become variables.",
        max_length=MAX_SECRET_REFS,
    ),
]
VolumesField = Annotated[
    list[VolumeSpec],
    Field(
        description="PersistentVolumeClaims of the job's namespace to mount.",
        max_length=MAX_VOLUMES,
    ),
]
PlacementField = Annotated[
    PlacementSpec | None,
    Field(description="GPU product and node selector (tolerations come from the catalog)."),
]


def env_name_problem(name: str) -> str | None:
    """Why the user may not set the variable `name`, or None."""
    if not re.match(ENV_NAME_PATTERN, name):
        return f"{name!r} is not a valid variable name (letters, digits and '_', not first a digit)"
    if name.startswith(RESERVED_ENV_PREFIX) or name in RESERVED_ENV_NAMES:
        return (
            f"{name!r} is set by the aijob runtime (the {RESERVED_ENV_PREFIX} prefix, "
            f"{', '.join(sorted(RESERVED_ENV_NAMES))}) and cannot be set"
        )
    return None


def mount_path_problem(path: str) -> str | None:
    """Why a user volume may not be mounted at `path`, or None."""
    if not path.startswith("/") or path == "/":
        return f"{path!r} must be an absolute path below /"
    segments = path.rstrip("/").split("/")[1:]
    if any(segment in ("", ".", "..") for segment in segments):
        return f"{path!r}: '.', '..' and empty segments are not accepted"
    clean = "/" + "/".join(segments)
    for reserved in RESERVED_MOUNT_PATHS:
        if (
            clean == reserved
            or clean.startswith(f"{reserved}/")
            or reserved.startswith(f"{clean}/")
        ):
            return f"{path!r} overlaps the runtime's own mount {reserved}"
    return None


def environment_problem(
    env: Sequence[EnvVar],
    volumes: Sequence[VolumeSpec],
    placement: PlacementSpec | None,
    gpus: int,
) -> str | None:
    """The first problem of the spec's env, volumes and placement (naming the field), or None."""
    seen: set[str] = set()
    for index, var in enumerate(env):
        where = f"env[{index}]"
        problem = env_name_problem(var.name)
        if problem is not None:
            return f"{where}.name: {problem}"
        if var.name in seen:
            return f"{where}.name: {var.name!r} is set twice"
        seen.add(var.name)
        if (var.value is None) == (var.value_from is None):
            return f"{where}: needs exactly one of value or valueFrom"
    paths: set[str] = set()
    for index, volume in enumerate(volumes):
        where = f"volumes[{index}].mountPath"
        problem = mount_path_problem(volume.mount_path)
        if problem is not None:
            return f"{where}: {problem}"
        if volume.mount_path.rstrip("/") in paths:
            return f"{where}: {volume.mount_path!r} is mounted twice"
        paths.add(volume.mount_path.rstrip("/"))
        if volume.sub_path is not None and ".." in volume.sub_path.split("/"):
            return f"volumes[{index}].subPath: '..' segments are not accepted"
    if placement is not None:
        return _placement_problem(placement, gpus)
    return None


def _placement_problem(placement: PlacementSpec, gpus: int) -> str | None:
    if placement.gpu_product is not None and not gpus:
        return "placement.gpuProduct: a GPU product needs resources.gpu of 1 or more"
    if GPU_PRODUCT_LABEL in placement.node_selector:
        return f"placement.nodeSelector: {GPU_PRODUCT_LABEL!r} is set with placement.gpuProduct"
    return labels_problem(placement.node_selector, "placement.nodeSelector")
