"""The runtime catalog: data, checked when loaded, resolved per framework and version."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from aijob_api.routing import MODEL_TYPE_ROUTES, Framework, model_types_served_by, route_framework
from aijob_api.spec import AIJobSpec
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
        (
            "frameworks: {sklearn: {defaultVersion: '1', versions: {'1': {image: x, "
            "placement: {tolerations: [{key: a, operator: Exists, value: b}]}}}}}",
            "Exists takes no value",
        ),
        (
            "frameworks: {sklearn: {defaultVersion: '1', versions: {'1': {image: x, "
            "placement: {tolerations: [{operator: Equal, value: b}]}}}}}",
            "Equal needs a key",
        ),
        (
            "frameworks: {sklearn: {defaultVersion: '1', versions: {'1': {image: x, "
            "placement: {tolerations: [{key: a, effect: Sometimes}]}}}}}",
            "effect",
        ),
        (
            "frameworks: {sklearn: {defaultVersion: '1', versions: {'1': {image: x, "
            "placement: {nodeSelector: {'bad key!': x}}}}}}",
            "nodeSelector: 'bad key!' is not a valid key",
        ),
        (
            "frameworks: {sklearn: {defaultVersion: '1', versions: {'1': {image: x, "
            "gpuCapable: sometimes}}}}",
            "gpuCapable",
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


@pytest.mark.parametrize(
    ("framework", "gpu_capable"),
    [
        (Framework.SKLEARN, False),
        (Framework.PYTORCH, True),
        (Framework.TENSORFLOW, False),
        (Framework.TRANSFORMERS, True),
    ],
)
def test_shipped_gpu_capability(framework: Framework, gpu_capable: bool) -> None:
    assert load_catalog().resolve(framework).runtime.gpu_capable is gpu_capable


def _spec(model_type: str, gpus: int, **extra: Any) -> AIJobSpec:
    return AIJobSpec.model_validate(
        {
            "task": "training",
            "model": {"type": model_type},
            "dataset": {"name": "digits"},
            "resources": {"gpu": gpus},
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("spec", "framework"),
    [
        (_spec("random_forest", 0), Framework.SKLEARN),
        (_spec("keras_cnn", 0), Framework.TENSORFLOW),
        (_spec("mlp", 1), Framework.PYTORCH),
        (_spec("bert", 2, framework="transformers"), Framework.TRANSFORMERS),
    ],
)
def test_jobs_a_runtime_can_run_resolve(spec: AIJobSpec, framework: Framework) -> None:
    assert load_catalog().resolve_for(spec).framework is framework


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (
            _spec("random_forest", 1),
            "spec.resources.gpu: 1 GPU(s) asked for, but the sklearn 1.9 runtime "
            "(aijob/worker-sklearn:0.1.0) cannot use GPUs; "
            "ask for 0 or a framework that can: pytorch, transformers",
        ),
        (
            _spec("keras_cnn", 4),
            "spec.resources.gpu: 4 GPU(s) asked for, but the tensorflow 2.21 runtime "
            "(aijob/worker-tensorflow:0.1.0) cannot use GPUs",
        ),
        (_spec("mlp", 0, framework="sklearn"), "spec.model.type: 'mlp' is not served"),
        (_spec("mlp", 0, frameworkVersion="0.1"), "no pytorch version '0.1'"),
    ],
)
def test_jobs_a_runtime_cannot_run_are_refused_naming_the_field(
    spec: AIJobSpec, named: str
) -> None:
    with pytest.raises(UnknownRuntimeError) as refused:
        load_catalog().resolve_for(spec)
    assert named in str(refused.value)


def test_without_gpu_capable_runtimes_the_refusal_suggests_none() -> None:
    catalog = parse_catalog(CUSTOM)
    with pytest.raises(UnknownRuntimeError, match=r"cannot use GPUs; ask for 0$"):
        catalog.resolve_for(_spec("random_forest", 1))


@pytest.mark.parametrize("framework", list(Framework))
def test_shipped_model_types_are_the_tables(framework: Framework) -> None:
    served = load_catalog().resolve(framework).runtime.model_types
    assert sorted(served) == sorted(model_types_served_by(framework))


FRAMEWORK_DISTRIBUTIONS = {
    Framework.SKLEARN: "scikit-learn",
    Framework.PYTORCH: "torch",
    Framework.TENSORFLOW: "tensorflow-cpu",
    Framework.TRANSFORMERS: "transformers",
}
"""The distribution in the image's lock whose version a framework's catalog versions name."""


def _locked_version(project: str, distribution: str) -> str:
    lock = tomllib.loads((REPO_ROOT / "worker-images" / project / "uv.lock").read_text())
    versions = [item["version"] for item in lock["package"] if item["name"] == distribution]
    assert len(versions) == 1, f"{distribution} in worker-images/{project}/uv.lock: {versions}"
    return str(versions[0])


@pytest.mark.parametrize("framework", list(Framework))
def test_shipped_versions_are_the_locked_ones(framework: Framework) -> None:
    runtimes = load_catalog().frameworks[framework]
    for version, runtime in runtimes.versions.items():
        project = IMAGE_PROJECTS[runtime.image.rsplit(":", 1)[0]]
        locked = _locked_version(project, FRAMEWORK_DISTRIBUTIONS[framework])
        assert locked.split(".")[:2] == version.split("."), (
            f"the catalog's {framework} {version} runs on worker-images/{project}, "
            f"whose uv.lock has {FRAMEWORK_DISTRIBUTIONS[framework]} {locked}"
        )
