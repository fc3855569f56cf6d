"""Your own training code: a script or a module from a ConfigMap or an archive in the store.

`spec.code` replaces the built-in model of a training job: the worker runs the entry
point in-process on the catalog's framework image with the aijob runtime importable
(`aijob_worker.report`, `save_checkpoint`, `save_model`, ...: docs/workers.md). The code
comes from a ConfigMap of the job's namespace, mounted read-only at `CODE_MOUNT_PATH`, or
from a `.tar.gz`/`.zip` archive in the tenant's store (confined like every URI:
`aijob_api.storage`). A custom `image` (and `command`) is for namespaces the operator's
runtime catalog allows (`customImages`). Its rules live here, attached to the spec by
`aijob_api.spec`, and `code_problem` mirrors the cross-field ones for clients.
`requirements` are packages the worker installs before the code runs, each a name,
extras and version specifiers only (`REQUIREMENT_PATTERN`: no URL, path, option or
marker), in the namespaces the runtime catalog's `requirements` rule allows, from the
index it names (the `REQUIREMENTS_*` variables the operator sets).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import ConfigDict, Field

from aijob_api.inputs import URI_PATTERN
from aijob_api.wire import WireModel

CODE_MOUNT_PATH: Final = "/var/lib/aijob/code"
"""Where a code ConfigMap is mounted (read-only) in the worker pod."""
ENTRYPOINT_PATTERN: Final = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.py$"
"""A relative path to a `.py` file: no `.`/`..` segments, no absolute path."""
MODULE_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
"""A dotted Python module name (`train`, `pkg.train`)."""
CONFIG_MAP_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
"""A ConfigMap's name (a DNS subdomain)."""
IMAGE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$"
"""A container image reference (registry/name:tag or @digest)."""
MAX_ARGS: Final = 64
MAX_ARG_LENGTH: Final = 1024
ARCHIVE_SUFFIXES: Final = (".tar.gz", ".tgz", ".tar", ".zip")
"""The archive formats the worker unpacks."""
MAX_REQUIREMENTS: Final = 64
MAX_REQUIREMENT_LENGTH: Final = 200
_NAME = r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"
_SPECIFIER = r"(===|==|!=|<=|>=|~=|<|>) *[A-Za-z0-9][A-Za-z0-9.*+!_-]*"
REQUIREMENT_PATTERN: Final = (
    rf"^{_NAME}( *\[ *{_NAME}( *, *{_NAME})* *\])?( *{_SPECIFIER}( *, *{_SPECIFIER})*)?$"
)
"""A PEP 508 requirement of a name, extras and version specifiers only (`torch-geometric`,
`rich[jupyter]>=13,<14`): no URL, path, `@` reference, `;` marker or `-` option."""
REQUIREMENTS_DIR: Final = "/tmp/aijob-requirements"  # noqa: S108 - the pod's scratch emptyDir
"""Where the worker installs `spec.code.requirements` (first on sys.path and PYTHONPATH)."""
ENV_REQUIREMENTS_INDEX_URL: Final = "AIJOB_REQUIREMENTS_INDEX_URL"
"""The package index the catalog names (set only where the job may install requirements)."""
ENV_REQUIREMENTS_EXTRA_INDEX_URLS: Final = "AIJOB_REQUIREMENTS_EXTRA_INDEX_URLS"
"""More indexes, separated by spaces."""
ENV_REQUIREMENTS_TRUSTED_HOSTS: Final = "AIJOB_REQUIREMENTS_TRUSTED_HOSTS"
"""Hosts reached without TLS verification (or over plain HTTP), separated by spaces."""
ENV_REQUIREMENTS_TIMEOUT: Final = "AIJOB_REQUIREMENTS_TIMEOUT_SECONDS"
"""How long the install may take before the job fails (bad input)."""


class CodeSpec(WireModel):
    """A training entry point of your own, run with the aijob runtime importable."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.command) ? !(has(self.configMap) && has(self.archiveUri))"
                    " : has(self.configMap) != has(self.archiveUri)",
                    "message": "code needs exactly one of configMap or archiveUri "
                    "(at most one with command)",
                },
                {
                    "rule": "has(self.command) ? !(has(self.entrypoint) && has(self.module))"
                    " : has(self.entrypoint) != has(self.module)",
                    "message": "code needs exactly one of entrypoint or module "
                    "(at most one with command)",
                },
                {
                    "rule": "!has(self.command) || has(self.image)",
                    "message": "code.command runs in a custom image: it needs code.image",
                    "fieldPath": ".command",
                },
                {
                    "rule": "!has(self.requirements) || size(self.requirements) == 0 "
                    "|| !has(self.command)",
                    "message": "code.requirements are installed by the aijob worker, which "
                    "code.command replaces: leave one out",
                    "fieldPath": ".requirements",
                },
                {
                    "rule": "!has(self.archiveUri) || "
                    + " || ".join(f"self.archiveUri.endsWith('{s}')" for s in ARCHIVE_SUFFIXES),
                    "message": "code.archiveUri must end in " + ", ".join(ARCHIVE_SUFFIXES),
                    "fieldPath": ".archiveUri",
                },
            ]
        }
    )

    config_map: Annotated[
        str | None,
        Field(
            description=(
                "A ConfigMap of the job's namespace holding the code (one key per file), "
                f"mounted read-only at {CODE_MOUNT_PATH}."
            ),
            max_length=253,
            pattern=CONFIG_MAP_PATTERN,
        ),
    ] = None
    archive_uri: Annotated[
        str | None,
        Field(
            description=(
                "A .tar.gz, .tgz, .tar or .zip of the code in this namespace's store "
                "(s3://<tenant bucket>/...), unpacked by the worker before it starts."
            ),
            max_length=2048,
            pattern=URI_PATTERN,
        ),
    ] = None
    entrypoint: Annotated[
        str | None,
        Field(
            description="The script to run, relative to the code's root (e.g. train.py).",
            max_length=253,
            pattern=ENTRYPOINT_PATTERN,
        ),
    ] = None
    module: Annotated[
        str | None,
        Field(
            description="Instead of entrypoint: a module to run as __main__ (python -m).",
            max_length=253,
            pattern=MODULE_PATTERN,
        ),
    ] = None
    image: Annotated[
        str | None,
        Field(
            description=(
                "A custom image instead of the runtime catalog's, allowed only in the namespaces "
                "the catalog's customImages lists (else the job fails, InvalidSpec). Without "
                "command it runs the catalog's command: build it FROM the runtime's image."
            ),
            max_length=512,
            pattern=IMAGE_PATTERN,
        ),
    ] = None
    command: Annotated[
        list[Annotated[str, Field(max_length=MAX_ARG_LENGTH)]] | None,
        Field(
            description=(
                "With image: the container's command instead of the aijob worker (args follow "
                "it); the code is still mounted or named, progress only as the command reports."
            ),
            min_length=1,
            max_length=MAX_ARGS,
        ),
    ] = None
    args: Annotated[
        list[Annotated[str, Field(max_length=MAX_ARG_LENGTH)]],
        Field(
            description="The script's command-line arguments (sys.argv[1:]).", max_length=MAX_ARGS
        ),
    ] = Field(default_factory=list)

    requirements: Annotated[
        list[
            Annotated[
                str,
                Field(min_length=1, max_length=MAX_REQUIREMENT_LENGTH, pattern=REQUIREMENT_PATTERN),
            ]
        ]
        | None,
        Field(
            description=(
                "Packages installed before the code runs (PEP 508: a name, extras and version "
                "specifiers, e.g. rich>=13; no URL, path, option or marker), from the package "
                "index of the runtime catalog, in the namespaces its requirements rule allows "
                f"(else the job fails, InvalidSpec). Installed into {REQUIREMENTS_DIR}, first "
                "on sys.path; the image's own packages are kept (never installed again)."
            ),
            max_length=MAX_REQUIREMENTS,
        ),
    ] = None

    @property
    def program(self) -> str:
        """What `sys.argv[0]` names: the script's path or the module (else the command)."""
        return self.entrypoint or self.module or (self.command or [""])[0]


CODE_SPEC_RULES: Final[tuple[dict[str, Any], ...]] = (
    {
        "rule": "!has(self.code) || self.task == 'training'",
        "message": "spec.code is for training jobs only",
        "fieldPath": ".code",
    },
    {
        "rule": "has(self.code) || has(self.model.type)",
        "message": "spec.model.type is required unless spec.code runs your own code",
        "fieldPath": ".model.type",
    },
    {
        "rule": "has(self.framework) || has(self.model.type)",
        "message": "spec.framework is required when spec.model.type is left out (spec.code)",
        "fieldPath": ".framework",
    },
)
"""The AIJob spec's CEL rules about `code` (attached by `aijob_api.spec`)."""


def code_problem(
    *, task: str, code: CodeSpec | None, model_type: str | None, framework: str | None
) -> str | None:
    """The first cross-field rule about `code` a spec breaks, naming the field, or None."""
    if code is not None:
        if task != "training":
            return "code: spec.code is for training jobs only"
        sources = (code.config_map is not None) + (code.archive_uri is not None)
        entries = (code.entrypoint is not None) + (code.module is not None)
        if sources > 1 or (sources == 0 and code.command is None):
            return "code: needs exactly one of configMap or archiveUri (at most one with command)"
        if entries > 1 or (entries == 0 and code.command is None):
            return "code: needs exactly one of entrypoint or module (at most one with command)"
        if code.command is not None and code.image is None:
            return "code.command: runs in a custom image: it needs code.image"
        if code.requirements and code.command is not None:
            return (
                "code.requirements: installed by the aijob worker, which code.command replaces: "
                "leave one out"
            )
        if code.archive_uri is not None and not code.archive_uri.endswith(ARCHIVE_SUFFIXES):
            return f"code.archiveUri: must end in {', '.join(ARCHIVE_SUFFIXES)}"
    elif model_type is None:
        return "model.type: required unless spec.code runs your own code"
    if framework is None and model_type is None:
        return "framework: required when spec.model.type is left out (spec.code)"
    return None
