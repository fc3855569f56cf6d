"""`kubectl explain` documents the AIJob from the schema the API server publishes."""

from __future__ import annotations

import pytest
from aijob_api.models import AIJobSpec

from tests.support.kubectl import kubectl

pytestmark = pytest.mark.usefixtures("aijob_crd")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize("field", [_camel(name) for name in AIJobSpec.model_fields])
def test_every_spec_field_is_explained(field: str) -> None:
    explained = kubectl("explain", f"aijob.spec.{field}").stdout
    assert f"FIELD: {field}" in explained
    description = explained.split("DESCRIPTION:", 1)[1].split("FIELDS:", 1)[0].strip()
    assert len(description) > 10, explained


def test_the_resource_is_explained() -> None:
    explained = kubectl("explain", "aijob").stdout
    assert "KIND:       AIJob" in explained
    assert "GROUP:      aijob.dev" in explained
    assert "VERSION:    v1alpha1" in explained
    assert "framework-specific worker image" in explained
