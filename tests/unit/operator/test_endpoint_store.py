"""An AIEndpoint's model is confined to its tenant's store like a job's (spec.model.source.uri,
or the model its training job recorded): outside it the endpoint fails naming the field and
no child is written; inside it the server's settings carry the recorded checksum."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from aijob_api.endpoint_conditions import EndpointPhase, EndpointReason
from aijob_api.storage import StorageMode
from aijob_operator.builders.endpoint_config import build_config_map
from aijob_operator.builders.pod import PodSettings
from aijob_operator.dependency import (
    NO_DEPENDENCY,
    Dependency,
    DependencyState,
    endpoint_store_problem,
)
from aijob_operator.endpoint_decide import EndpointInputs, decide_endpoint

from tests.unit.operator.endpoint_factories import MODEL, endpoint, target
from tests.unit.operator.factories import at

S3 = PodSettings(storage_mode=StorageMode.S3)
URI_SPEC = {"model": {"type": "random_forest", "source": {"uri": "s3://aijob-ns/models/rf"}}}


def _ready(uri: str) -> Dependency:
    return Dependency(
        DependencyState.READY, model_uri=uri, training_job="iris", model_checksum="ab" * 32
    )


@pytest.mark.parametrize(
    ("spec", "dependency", "words"),
    [
        (
            {"model": {"type": "random_forest", "source": {"uri": "s3://aijob-other/m"}}},
            NO_DEPENDENCY,
            "spec.model.source.uri: 's3://aijob-other/m': outside this namespace's store",
        ),
        (
            {"model": {"type": "random_forest", "source": {"uri": "file:///etc/models/m"}}},
            NO_DEPENDENCY,
            "spec.model.source.uri: 'file:///etc/models/m': only s3:// URIs",
        ),
        (
            None,
            _ready("s3://aijob-other/jobs/iris/model"),
            "status.results.modelUri of training job iris",
        ),
    ],
)
def test_a_model_outside_the_store_fails_the_endpoint_without_children(
    spec: dict[str, Any] | None, dependency: Dependency, words: str
) -> None:
    item = endpoint(spec=spec)
    problem = endpoint_store_problem(item, dependency, S3.store)
    assert problem is not None
    assert words in problem
    decision = decide_endpoint(
        EndpointInputs(
            endpoint=item,
            now=at(30),
            dependency=dependency,
            runtime=target().runtime,
            runtime_error=problem,
            model_type="random_forest",
            settings=S3,
        )
    )
    assert decision.writes == ()
    assert decision.status.phase == EndpointPhase.FAILED
    assert decision.status.reason == EndpointReason.INVALID_SPEC
    assert decision.status.message is not None
    assert words in decision.status.message


@pytest.mark.parametrize(
    ("spec", "dependency"),
    [(URI_SPEC, NO_DEPENDENCY), (None, _ready("s3://aijob-ns/jobs/iris/model"))],
)
def test_a_model_inside_the_store_is_accepted(
    spec: dict[str, Any] | None, dependency: Dependency
) -> None:
    assert endpoint_store_problem(endpoint(spec=spec), dependency, S3.store) is None


def test_a_namespace_without_a_bucket_name_is_the_problem() -> None:
    settings = PodSettings(storage_mode=StorageMode.S3, s3_bucket_template="{namespace}")
    problem = endpoint_store_problem(endpoint(), NO_DEPENDENCY, settings.store)
    assert problem is not None
    assert "no artifact store for this namespace" in problem


def test_the_server_settings_carry_the_recorded_checksum_only_when_there_is_one() -> None:
    recorded = yaml.safe_load(build_config_map(target()).to_dict()["data"]["serve.yaml"])
    assert recorded["modelSha256"] == MODEL.checksum
    by_uri = target(model=MODEL.model_copy(update={"checksum": None, "training_job": None}))
    plain = yaml.safe_load(build_config_map(by_uri).to_dict()["data"]["serve.yaml"])
    assert "modelSha256" not in plain
