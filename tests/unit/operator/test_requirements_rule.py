"""The catalog's requirements rule: who may install spec.code.requirements, from which index."""

from __future__ import annotations

from typing import Any

import pytest
from aijob_api.code import (
    ENV_REQUIREMENTS_EXTRA_INDEX_URLS,
    ENV_REQUIREMENTS_INDEX_URL,
    ENV_REQUIREMENTS_TIMEOUT,
    ENV_REQUIREMENTS_TRUSTED_HOSTS,
)
from aijob_api.routing import Framework
from aijob_operator.builders.job import PodSettings, build_job
from aijob_operator.catalog import CatalogError, RuntimeCatalog, load_catalog, parse_catalog
from aijob_operator.requirements import RequirementsRule

from tests.unit.operator.factories import aijob

CATALOG = load_catalog()
INDEX = "http://packages.team-a.svc:8080/simple"
RULE = RequirementsRule(
    namespaces=["team-a"],
    index_url=INDEX,
    extra_index_urls=["https://mirror.internal/simple"],
    trusted_hosts=["packages.team-a.svc:8080"],
    timeout_seconds=120,
)
SPEC = {
    "task": "training",
    "framework": "pytorch",
    "code": {"configMap": "my-code", "entrypoint": "train.py", "requirements": ["rich>=13"]},
}


def with_rule(rule: RequirementsRule | None) -> RuntimeCatalog:
    """The shipped catalog, its PyTorch runtime carrying `rule`."""
    pytorch = CATALOG.frameworks[Framework.PYTORCH]
    version = pytorch.versions[pytorch.default_version]
    versions = {pytorch.default_version: version.model_copy(update={"requirements": rule})}
    frameworks = {**CATALOG.frameworks}
    frameworks[Framework.PYTORCH] = pytorch.model_copy(update={"versions": versions})
    return CATALOG.model_copy(update={"frameworks": frameworks})


def problem(catalog: RuntimeCatalog, namespace: str, spec: dict[str, Any] = SPEC) -> str | None:
    job = aijob("x", spec=spec).spec
    return catalog.requirements_problem(catalog.resolve_for(job), namespace, job)


@pytest.mark.parametrize(
    ("catalog", "namespace", "rule_named"),
    [
        (CATALOG, "team-a", "has no requirements rule"),  # the shipped catalog allows none
        (with_rule(RULE), "team-b", "requirements.namespaces does not list it"),
        (with_rule(RULE), "team-a", None),
        (with_rule(RULE.model_copy(update={"namespaces": ["*"]})), "anyone", None),
    ],
)
def test_requirements_only_where_the_catalog_allows_them(
    catalog: RuntimeCatalog, namespace: str, rule_named: str | None
) -> None:
    found = problem(catalog, namespace)
    if rule_named is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith("spec.code.requirements: ")
        assert rule_named in found
    without = {**SPEC, "code": {"configMap": "my-code", "entrypoint": "train.py"}}
    assert problem(catalog, namespace, without) is None  # no requirements, nothing to allow


def env_of(spec: dict[str, Any], catalog: RuntimeCatalog) -> dict[str, str | None]:
    job = aijob("x", spec=spec)
    built = build_job(job, catalog.resolve_for(job.spec), PodSettings()).to_dict()
    (container,) = built["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item.get("value") for item in container["env"]}


def test_the_worker_gets_the_index_of_the_rule() -> None:
    env = env_of(SPEC, with_rule(RULE))
    assert env[ENV_REQUIREMENTS_INDEX_URL] == INDEX
    assert env[ENV_REQUIREMENTS_EXTRA_INDEX_URLS] == "https://mirror.internal/simple"
    assert env[ENV_REQUIREMENTS_TRUSTED_HOSTS] == "packages.team-a.svc:8080"
    assert env[ENV_REQUIREMENTS_TIMEOUT] == "120"


def test_no_index_variables_without_requirements() -> None:
    without = {**SPEC, "code": {"configMap": "my-code", "entrypoint": "train.py"}}
    env = env_of(without, with_rule(RULE))
    assert not [name for name in env if name.startswith("AIJOB_REQUIREMENTS_")]


def test_a_rule_is_read_from_the_catalog_file_and_checked() -> None:
    text = """
frameworks:
  sklearn:
    defaultVersion: "1.9"
    versions:
      "1.9":
        image: aijob/worker-sklearn:0.1.0
        requirements:
          namespaces: [team-a]
          indexUrl: http://packages.team-a.svc:8080/simple
          trustedHosts: [packages.team-a.svc:8080]
"""
    rule = parse_catalog(text).frameworks[Framework.SKLEARN].versions
    assert rule["1.9"].requirements is not None
    assert rule["1.9"].requirements.timeout_seconds == 600
    with pytest.raises(CatalogError, match="indexUrl"):
        parse_catalog(text.replace("http://packages", "file:///packages"))
    with pytest.raises(CatalogError, match="trustedHosts"):
        parse_catalog(text.replace("[packages.team-a.svc:8080]", "['bad host']"))
