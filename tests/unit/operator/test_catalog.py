"""The runtime catalog: data, checked when loaded, resolved per framework and version."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from aijob_api.routing import MODEL_TYPE_ROUTES, Framework, route_framework
from aijob_operator.catalog import (
    CatalogError,
    UnknownRuntimeError,
    load_catalog,
    parse_catalog,
)


@pytest.mark.parametrize(
    ("framework", "image"),
    [
        (Framework.SKLEARN, "aijob/worker-sklearn:"),
        (Framework.PYTORCH, "aijob/worker-pytorch:"),
        (Framework.TENSORFLOW, "aijob/worker-tensorflow:"),
        (Framework.TRANSFORMERS, "aijob/worker-pytorch:"),
    ],
)
def test_shipped_catalog_covers_every_framework(framework: Framework, image: str) -> None:
    resolved = load_catalog().resolve(framework)
    assert resolved.runtime.image.startswith(image)
    assert resolved.runtime.command == ["python", "-m", "aijob_worker"]
    assert resolved.version in load_catalog().frameworks[framework].versions


CUSTOM = """
frameworks:
  sklearn:
    defaultVersion: "1.9"
    versions:
      "1.9": {image: "reg/sk:1.9"}
      "1.5": {image: "reg/sk:1.5", resources: {cpu: 250m, memory: 256Mi}, env: {A: "1"}}
"""


def test_versions_resolve_and_default(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CUSTOM)
    catalog = load_catalog(path)
    assert catalog.resolve(Framework.SKLEARN).runtime.image == "reg/sk:1.9"
    old = catalog.resolve(Framework.SKLEARN, "1.5")
    assert (old.version, old.runtime.resources.cpu, old.runtime.env) == ("1.5", "250m", {"A": "1"})


@pytest.mark.parametrize(
    ("framework", "version", "message"),
    [
        (Framework.PYTORCH, None, "no framework 'pytorch'"),
        (Framework.SKLEARN, "0.1", "no sklearn version '0.1' (it has: 1.5, 1.9)"),
    ],
)
def test_unknown_runtimes_are_named(
    framework: Framework, version: str | None, message: str
) -> None:
    with pytest.raises(UnknownRuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_catalog(CUSTOM).resolve(framework, version)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frameworks: [", "not valid YAML"),
        (
            "frameworks: {sklearn: {defaultVersion: '2', versions: {'1': {image: x}}}}",
            "defaultVersion",
        ),
        ("frameworks: {cobol: {defaultVersion: '1', versions: {'1': {image: x}}}}", "cobol"),
        (
            "frameworks: {sklearn: {defaultVersion: '1', "
            "versions: {'1': {image: x, env: {'1A': b}}}}}",
            "1A",
        ),
        (
            "frameworks: {sklearn: {defaultVersion: '1', "
            "versions: {'1': {image: x, resources: {cpu: lots}}}}}",
            "cpu",
        ),
    ],
)
def test_bad_catalogs_are_refused(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "nope.yaml")


REPO_ROOT = Path(__file__).resolve().parents[3]
IMAGE_PROJECTS = {
    "aijob/worker-sklearn": "sklearn",
    "aijob/worker-pytorch": "pytorch",
    "aijob/worker-tensorflow": "tensorflow",
}


def _entry_point_model_types(project: str) -> set[str]:
    pyproject = tomllib.loads(
        (REPO_ROOT / "worker-images" / project / "pyproject.toml").read_text()
    )
    return set(pyproject["project"]["entry-points"]["aijob.runners"])


@pytest.mark.parametrize("framework", list(Framework))
def test_shipped_model_types_are_what_the_image_registers(framework: Framework) -> None:
    runtime = load_catalog().resolve(framework).runtime
    served = set(runtime.model_types)
    registered = _entry_point_model_types(IMAGE_PROJECTS[runtime.image.rsplit(":", 1)[0]])
    if framework is Framework.TRANSFORMERS:
        assert served < registered, "the text models of the PyTorch image"
    else:
        assert served == registered


@pytest.mark.parametrize(("model_type", "framework"), sorted(MODEL_TYPE_ROUTES.items()))
def test_every_routed_model_type_is_served_where_it_is_routed(
    model_type: str, framework: Framework
) -> None:
    resolved = load_catalog().resolve(route_framework(model_type), model_type=model_type)
    assert resolved.framework is framework


def test_a_model_type_the_runtime_does_not_serve_is_named() -> None:
    with pytest.raises(UnknownRuntimeError, match=r"spec\.model\.type: 'mlp' is not served by the"):
        load_catalog().resolve(Framework.SKLEARN, model_type="mlp")


def test_a_runtime_without_model_types_serves_any() -> None:
    resolved = parse_catalog(CUSTOM).resolve(Framework.SKLEARN, model_type="anything")
    assert resolved.runtime.model_types == []
