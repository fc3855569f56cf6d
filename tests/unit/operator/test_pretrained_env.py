"""A fine-tuning job's pod: the pretrained reference in its spec, the hub token by reference."""

from __future__ import annotations

import json
from typing import Any

from aijob_api import contract
from aijob_api.pretrained import HUB_TOKEN_ENV
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.catalog import load_catalog

from tests.unit.operator.factories import aijob

CATALOG = load_catalog()


def worker_of(pretrained: dict[str, Any]) -> dict[str, Any]:
    spec = {
        "task": "training",
        "model": {"type": "bert", "pretrained": pretrained},
        "dataset": {"name": "sentiment"},
    }
    job = aijob("tune", spec=spec)
    runtime = CATALOG.resolve(job.spec.resolved_framework, job.spec.framework_version)
    built = build_job(job, runtime, PodSettings()).to_dict()
    container: dict[str, Any]
    (container,) = built["spec"]["template"]["spec"]["containers"]
    container["annotations"] = built["spec"]["template"]["metadata"]["annotations"]
    return container


def test_the_hub_token_comes_from_the_jobs_secret_by_reference() -> None:
    pretrained = {"hubId": "org/tiny-bert", "tokenSecret": {"name": "hub-token", "key": "token"}}
    container = worker_of(pretrained)
    (token,) = [item for item in container["env"] if item["name"] == HUB_TOKEN_ENV]
    assert "value" not in token
    assert token["valueFrom"] == {"secretKeyRef": {"name": "hub-token", "key": "token"}}
    spec = json.loads(container["annotations"][contract.SPEC_ANNOTATION])
    assert spec["model"]["pretrained"] == {
        "hubId": "org/tiny-bert",
        "format": "huggingface",
        "tokenSecret": {"name": "hub-token", "key": "token"},
    }


def test_a_stored_model_needs_no_token() -> None:
    container = worker_of({"uri": "file:///artifacts/models/bert"})
    assert HUB_TOKEN_ENV not in {item["name"] for item in container["env"]}
    spec = json.loads(container["annotations"][contract.SPEC_ANNOTATION])
    assert spec["model"]["pretrained"]["uri"] == "file:///artifacts/models/bert"
