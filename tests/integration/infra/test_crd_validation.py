"""The API server itself enforces a CRD's schema: an invalid object is refused, naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import cast

import pytest
from lightkube import ApiError, Client
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from tests.support.eventually import Timeout, eventually


@pytest.fixture
def widget_crd(kube: Client) -> Iterator[tuple[str, str]]:
    """A small throw-away CRD with a typed, bounded schema (deleted after the test)."""
    group = f"t{uuid.uuid4().hex[:8]}.infra.aijob.dev"
    crd = cast(
        CustomResourceDefinition,
        CustomResourceDefinition.from_dict(
            {
                "metadata": {"name": f"widgets.{group}"},
                "spec": {
                    "group": group,
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                    "scope": "Namespaced",
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "properties": {
                                        "spec": {
                                            "type": "object",
                                            "required": ["replicas"],
                                            "properties": {
                                                "replicas": {
                                                    "type": "integer",
                                                    "minimum": 0,
                                                    "maximum": 8,
                                                }
                                            },
                                        }
                                    },
                                }
                            },
                        }
                    ],
                },
            },
        ),
    )
    kube.create(crd)
    try:

        def established() -> bool:
            current = kube.get(CustomResourceDefinition, f"widgets.{group}")
            conditions = (current.status.conditions if current.status else None) or []
            return any(c.type == "Established" and c.status == "True" for c in conditions)

        eventually(established, timeout=Timeout.API, what="the test CRD to be established")
        yield group, "Widget"
    finally:
        kube.delete(CustomResourceDefinition, f"widgets.{group}")


def test_api_server_rejects_an_object_that_violates_the_crd_schema(
    kube: Client, namespace: str, widget_crd: tuple[str, str]
) -> None:
    group, kind = widget_crd
    widget = create_namespaced_resource(group, "v1", kind, "widgets")

    def accepts_valid_object() -> bool:
        kube.create(
            widget(metadata=ObjectMeta(name="ok"), spec={"replicas": 2}), namespace=namespace
        )
        return True

    try:
        eventually(accepts_valid_object, timeout=Timeout.API, what="the new resource to be served")
    except ApiError as error:  # pragma: no cover - diagnostic only
        pytest.fail(f"a valid object was refused: {error}")

    with pytest.raises(ApiError) as refused:
        kube.create(
            widget(metadata=ObjectMeta(name="bad"), spec={"replicas": 99}), namespace=namespace
        )
    assert refused.value.status.code == 422
    assert "spec.replicas" in (refused.value.status.message or "")
