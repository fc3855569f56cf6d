"""The job contract: what the operator tells a worker through its environment.

Every variable is named in `aijob_api.contract`. `JobContext.from_env` parses
them once, at start, and turns anything unusable into a `BadInputError` that
names the variable (or the spec field) at fault. The spec itself is a file
(`AIJOB_SPEC_FILE`, projected from a pod annotation: `aijob_api.delivery`); a
run by hand may give it inline in `AIJOB_SPEC` instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aijob_api import contract
from aijob_api.code import CODE_MOUNT_PATH
from aijob_api.models import AIJobSpec
from aijob_api.routing import Framework
from pydantic import ValidationError

from aijob_worker.distributed import GroupSetup, Rank
from aijob_worker.errors import BadInputError, bad_input_from_validation

DEFAULT_PROGRESS_INTERVAL_SECONDS = 5.0
"""Least number of seconds between two progress writes when the operator sets none."""

ENV_STATUS_FILE = "AIJOB_STATUS_FILE"
"""Offline runs (no AIJob to report into): merge every status write into this JSON file."""

ENV_CODE_DIR = "AIJOB_CODE_DIR"
"""Runs by hand and tests: where a code ConfigMap's files are (in a pod: `CODE_MOUNT_PATH`)."""

ENV_TERMINATION_MESSAGE_PATH = "AIJOB_TERMINATION_MESSAGE_PATH"
"""Override of the container's termination message path (Kubernetes: /dev/termination-log)."""


@dataclass(frozen=True)
class JobContext:
    """Everything the worker knows about its job before it starts."""

    spec: AIJobSpec
    framework: Framework
    artifact_uri: str
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    pod_name: str | None = None
    model_uri: str | None = None
    model_sha256: str | None = None
    """The SHA-256 the model's manifest must have (its training job's record)."""
    progress_interval: float = DEFAULT_PROGRESS_INTERVAL_SECONDS
    status_file: str | None = None
    code_dir: str = CODE_MOUNT_PATH
    """Where the files of `spec.code.configMap` are mounted."""
    group: GroupSetup | None = None
    """The job's group of pods and processes (None: one process, as most jobs)."""
    rank: Rank = field(default_factory=Rank)
    """This process's rank in the group (rank 0 of 1 outside a group)."""

    @property
    def reports_to_cluster(self) -> bool:
        """Whether there is an AIJob to write status into (else the run is offline)."""
        return bool(self.name and self.namespace)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JobContext:
        """Parse the contract from an environment (usually `os.environ`)."""
        spec = parse_spec(read_spec(env))
        name = env.get(contract.ENV_JOB_NAME) or None
        namespace = env.get(contract.ENV_NAMESPACE) or None
        if bool(name) != bool(namespace):
            raise BadInputError(
                contract.ENV_NAMESPACE if name else contract.ENV_JOB_NAME,
                f"{contract.ENV_JOB_NAME} and {contract.ENV_NAMESPACE} must be set together",
            )
        group = GroupSetup.from_env(env)
        return cls(
            spec=spec,
            framework=_framework(env.get(contract.ENV_FRAMEWORK), spec),
            artifact_uri=env.get(contract.ENV_ARTIFACT_URI)
            or default_artifact_uri(namespace, name),
            name=name,
            namespace=namespace,
            uid=env.get(contract.ENV_JOB_UID) or None,
            pod_name=env.get(contract.ENV_POD_NAME) or None,
            model_uri=env.get(contract.ENV_MODEL_URI) or None,
            model_sha256=env.get(contract.ENV_MODEL_SHA256) or None,
            progress_interval=_interval(env.get(contract.ENV_PROGRESS_INTERVAL)),
            status_file=env.get(ENV_STATUS_FILE) or None,
            code_dir=env.get(ENV_CODE_DIR) or CODE_MOUNT_PATH,
            group=group,
            rank=Rank.from_env(env, group),
        )


def read_spec(env: Mapping[str, str]) -> tuple[str, str]:
    """The spec's JSON text and where it came from: the spec file, or (by hand) AIJOB_SPEC."""
    path, inline = env.get(contract.ENV_SPEC_FILE), env.get(contract.ENV_SPEC)
    if path and inline:
        raise BadInputError(
            contract.ENV_SPEC, f"set {contract.ENV_SPEC_FILE} or {contract.ENV_SPEC}, not both"
        )
    if inline:
        return inline, contract.ENV_SPEC
    if not path:
        raise BadInputError(
            contract.ENV_SPEC_FILE,
            f"is not set; the worker needs the AIJob spec as a JSON file "
            f"(or inline JSON in {contract.ENV_SPEC})",
        )
    try:
        return Path(path).read_text(encoding="utf-8"), f"{contract.ENV_SPEC_FILE} ({path})"
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(
            contract.ENV_SPEC_FILE, f"cannot read the spec file {path}: {error}"
        ) from error


def parse_spec(source: tuple[str, str]) -> AIJobSpec:
    """Parse the spec JSON; an empty or invalid spec is bad input naming where it came from."""
    raw, where = source
    if not raw.strip():
        raise BadInputError(where, "is empty; the worker needs the AIJob spec as JSON")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise BadInputError(where, f"is not valid JSON ({error})") from error
    try:
        return AIJobSpec.model_validate(document)
    except ValidationError as error:
        raise bad_input_from_validation("spec", error.errors()) from error


def default_artifact_uri(namespace: str | None, name: str | None) -> str:
    """Where artifacts go when the operator names no place: under the artifact mount."""
    return f"file://{contract.ARTIFACTS_MOUNT_PATH}/{namespace or 'offline'}/{name or 'job'}"


def _framework(raw: str | None, spec: AIJobSpec) -> Framework:
    if not raw:
        return spec.resolved_framework
    try:
        return Framework(raw)
    except ValueError as error:
        known = ", ".join(item.value for item in Framework)
        raise BadInputError(
            contract.ENV_FRAMEWORK, f"unknown framework {raw!r}; known: {known}"
        ) from error


def _interval(raw: str | None) -> float:
    if raw is None or raw == "":
        return DEFAULT_PROGRESS_INTERVAL_SECONDS
    try:
        value = float(raw)
    except ValueError as error:
        raise BadInputError(contract.ENV_PROGRESS_INTERVAL, f"{raw!r} is not a number") from error
    if not math.isfinite(value) or value < 0:
        raise BadInputError(contract.ENV_PROGRESS_INTERVAL, f"{raw!r} must be a number >= 0")
    return value
