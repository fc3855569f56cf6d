"""The allow-list of spec.podTemplate's labels and annotations, and the reserved prefixes the
API models refuse whatever the allow-list says."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.models import AIJobSpec
from aijob_operator.builders.pod_metadata import PodMetadataPolicy, pod_metadata_problem
from pydantic import ValidationError

TRAINING = {"task": "training", "model": {"type": "random_forest"}, "dataset": {"name": "iris"}}
POLICY = PodMetadataPolicy(
    label_prefixes=("team", "example.com/"), annotation_prefixes=("aijob.dev/fake-",)
)


def spec(**pod_template: Any) -> AIJobSpec:
    return AIJobSpec.model_validate({**TRAINING, "podTemplate": pod_template})


@pytest.mark.parametrize(
    ("template", "policy", "problem"),
    [
        ({}, PodMetadataPolicy(), None),
        ({"labels": {"team": "a", "example.com/cost": "x"}}, POLICY, None),
        ({"annotations": {"aijob.dev/fake-run-seconds": "4"}}, POLICY, None),
        (
            {"labels": {"team": "a"}},
            PodMetadataPolicy(),
            "spec.podTemplate.labels: the key 'team' is not allowed on worker pods "
            "(no key is allowed;",
        ),
        (
            {
                "annotations": {
                    "container.apparmor.security.beta.kubernetes.io/worker": "unconfined"
                }
            },
            POLICY,
            "spec.podTemplate.annotations: the key "
            "'container.apparmor.security.beta.kubernetes.io/worker' is not allowed on worker "
            "pods (only keys under 'aijob.dev/fake-' are allowed;",
        ),
        (
            {"annotations": {"sidecar.istio.io/inject": "false"}},
            PodMetadataPolicy(annotation_prefixes=("example.com/", "acme.org/")),
            "(only keys under 'example.com/' and 'acme.org/' are allowed;",
        ),
        (
            {"labels": {"app": "gateway"}},
            POLICY,
            "spec.podTemplate.labels: the key 'app' is not allowed",
        ),
    ],
    ids=[
        "nothing asked",
        "labels under allowed prefixes",
        "annotations under an allowed prefix",
        "default: no label",
        "AppArmor unconfined",
        "mesh bypass",
        "a label outside the list",
    ],
)
def test_allow_list(
    template: dict[str, Any], policy: PodMetadataPolicy, problem: str | None
) -> None:
    found = pod_metadata_problem(spec(**template), policy)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
        assert "AIJOB_OPERATOR_POD_" in found


def test_no_pod_template_is_no_problem() -> None:
    assert pod_metadata_problem(AIJobSpec.model_validate(TRAINING), PodMetadataPolicy()) is None


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ({"labels": {"aijob.dev/job-name": "x"}}, "podTemplate.labels"),
        (
            {"annotations": {"batch.kubernetes.io/job-index-failure-count": "0"}},
            "podTemplate.annotations",
        ),
        ({"annotations": {"kueue.x-k8s.io/queue-name": "q"}}, "podTemplate.annotations"),
    ],
)
def test_reserved_prefixes_are_refused_by_the_models(template: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field}: the key .* uses a reserved prefix"):
        spec(**template)
