"""Build request bodies from files or flags, checked locally first: a job's submission (an
AIJob YAML file or flags), an endpoint's creation (an AIEndpoint YAML file), records to predict.

The spec is validated with the same models the gateway and the CRD use, so a
mistake is reported, naming the field, before anything is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aijob_api.constants import ANNOTATION_DESCRIPTION, API_VERSION, ENDPOINT_KIND, KIND
from aijob_api.endpoint_spec import AIEndpointSpec
from aijob_api.models import AIJobSpec
from pydantic import BaseModel, ValidationError


class ManifestError(ValueError):
    """The job file or the flags do not describe a valid job; the message names the field."""


def _check_spec(spec: Any, model_class: type[BaseModel] = AIJobSpec) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ManifestError("spec: must be a mapping")
    try:
        model = model_class.model_validate(spec)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        where = f"spec.{location}" if location else "spec"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ManifestError(f"{where}: {message}") from error
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _read_document(path: Path) -> Any:
    """A YAML (or JSON) file's content."""
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ManifestError(f"cannot read {path}: {error}") from error


def body_from_file(path: Path) -> dict[str, Any]:
    """A submission from an AIJob manifest (apiVersion/kind/metadata/spec) or a bare body."""
    document = _read_document(path)
    if not isinstance(document, dict) or "spec" not in document:
        raise ManifestError(f"{path}: expected an AIJob manifest with a spec")
    if "kind" in document and document["kind"] != KIND:
        raise ManifestError(f"kind: expected {KIND}, got {document['kind']!r}")
    if "apiVersion" in document and document["apiVersion"] != API_VERSION:
        raise ManifestError(f"apiVersion: expected {API_VERSION}, got {document['apiVersion']!r}")
    body: dict[str, Any] = {"spec": _check_spec(document["spec"])}
    metadata = document.get("metadata") or {}
    if "kind" in document:
        if metadata.get("name"):
            body["name"] = metadata["name"]
        if metadata.get("labels"):
            body["labels"] = metadata["labels"]
        description = (metadata.get("annotations") or {}).get(ANNOTATION_DESCRIPTION)
        if description:
            body["description"] = description
    else:
        for key in ("name", "labels", "description", "clientRequestId"):
            if key in document:
                body[key] = document[key]
    return body


def _scalar(text: str) -> Any:
    """A flag value as JSON when it parses (3, 0.1, true, [1,2]), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise ManifestError(f"{flag}: expected KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


@dataclass
class JobFlags:
    """A job described with command-line flags."""

    task: str = "training"
    model_type: str | None = None
    framework: str | None = None
    dataset: str | None = None
    data_uri: str | None = None
    training_job: str | None = None
    model_uri: str | None = None
    records: list[str] = field(default_factory=list)
    input_uri: str | None = None
    hyperparameters: list[str] = field(default_factory=list)
    gpu: int | None = None
    cpu: str | None = None
    memory: str | None = None
    priority: str | None = None
    max_retries: int | None = None
    timeout_seconds: int | None = None
    name: str | None = None
    labels: list[str] = field(default_factory=list)
    description: str | None = None

    def body(self) -> dict[str, Any]:
        """The submission these flags describe."""
        if not self.model_type:
            raise ManifestError("--model-type: required without --file")
        model: dict[str, Any] = {
            "type": self.model_type,
            "hyperparameters": {
                k: _scalar(v) for k, v in _pairs(self.hyperparameters, "--hp").items()
            },
        }
        spec: dict[str, Any] = {"task": self.task, "model": model}
        if self.training_job or self.model_uri:
            model["source"] = (
                {"trainingJob": self.training_job} if self.training_job else {"uri": self.model_uri}
            )
        if self.dataset or self.data_uri:
            spec["dataset"] = {"name": self.dataset} if self.dataset else {"uri": self.data_uri}
        if self.records or self.input_uri:
            spec["input"] = (
                {"records": [_scalar(r) for r in self.records]}
                if self.records
                else {"uri": self.input_uri}
            )
        resources = {
            k: v for k, v in (("gpu", self.gpu), ("cpu", self.cpu), ("memory", self.memory)) if v
        }
        if resources:
            spec["resources"] = resources
        optional = {
            "framework": self.framework,
            "priority": self.priority,
            "timeoutSeconds": self.timeout_seconds,
        }
        spec.update({k: v for k, v in optional.items() if v is not None})
        if self.max_retries is not None:
            spec["retryPolicy"] = {"maxRetries": self.max_retries}
        body: dict[str, Any] = {"spec": _check_spec(spec)}
        if self.name:
            body["name"] = self.name
        if self.labels:
            body["labels"] = _pairs(self.labels, "--label")
        if self.description:
            body["description"] = self.description
        return body


def endpoint_body_from_file(path: Path) -> dict[str, Any]:
    """An endpoint to create from an AIEndpoint manifest (or a bare `{name, spec}` body)."""
    document = _read_document(path)
    if not isinstance(document, dict) or "spec" not in document:
        raise ManifestError(f"{path}: expected an AIEndpoint manifest with a spec")
    if "kind" in document and document["kind"] != ENDPOINT_KIND:
        raise ManifestError(f"kind: expected {ENDPOINT_KIND}, got {document['kind']!r}")
    if "apiVersion" in document and document["apiVersion"] != API_VERSION:
        raise ManifestError(f"apiVersion: expected {API_VERSION}, got {document['apiVersion']!r}")
    body: dict[str, Any] = {"spec": _check_spec(document["spec"], AIEndpointSpec)}
    metadata = document.get("metadata") or {}
    name = metadata.get("name") if "kind" in document else document.get("name")
    if not name:
        raise ManifestError("metadata.name: an endpoint needs a name")
    body["name"] = name
    labels = metadata.get("labels") if "kind" in document else document.get("labels")
    if labels:
        body["labels"] = labels
    description = (
        (metadata.get("annotations") or {}).get(ANNOTATION_DESCRIPTION)
        if "kind" in document
        else document.get("description")
    )
    if description:
        body["description"] = description
    return body


def records_from(flags: list[str], path: Path | None) -> list[Any]:
    """Records to predict: `--record JSON` flags, or a JSON file (a list or `{"records": []}`)."""
    if flags and path is not None:
        raise ManifestError("--record and --file: give records one way, not both")
    if path is not None:
        document = _read_document(path)
        records = document.get("records") if isinstance(document, dict) else document
        if not isinstance(records, list) or not records:
            raise ManifestError(f'{path}: expected a list of records or {{"records": [...]}}')
        return records
    if not flags:
        raise ManifestError("--record: give at least one record (JSON), or --file")
    records = []
    for index, text in enumerate(flags):
        try:
            records.append(json.loads(text))
        except ValueError as error:
            raise ManifestError(f"--record {index + 1}: not JSON ({error}): {text!r}") from error
    return records
