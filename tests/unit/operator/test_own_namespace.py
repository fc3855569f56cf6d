"""The operator's own namespace: never watched, never reconciled, and told once per object."""

from __future__ import annotations

import pytest
from aijob_operator.__main__ import main
from aijob_operator.config import OperatorConfig
from aijob_operator.events import EventPoster, PendingEvent
from aijob_operator.runtime import IGNORED_REASON, in_own_namespace
from pydantic import ValidationError


async def _never(_: PendingEvent) -> None:
    raise AssertionError("nothing is sent in these tests")


def body(namespace: str, uid: str = "u-1") -> dict[str, object]:
    return {"metadata": {"namespace": namespace, "name": "operator", "uid": uid}}


def test_objects_of_the_own_namespace_are_ignored_and_told_once() -> None:
    told: set[str] = set()
    events = EventPoster(_never)
    assert in_own_namespace("aijob-system", told, events, "ADDED", body("aijob-system"), "AIJob")
    assert in_own_namespace("aijob-system", told, events, None, body("aijob-system"), "AIJob")
    assert len(events) == 1, "told once, not at every event"
    event = events._queue.get_nowait()
    assert event.reason == IGNORED_REASON
    assert event.type == "Warning"
    assert "aijob-system is the aijob operator's own namespace" in event.message
    assert in_own_namespace("aijob-system", told, events, "DELETED", body("aijob-system"), "AIJob")
    assert told == set()


def test_tenant_namespaces_and_an_unset_own_namespace_are_reconciled() -> None:
    events = EventPoster(_never)
    assert not in_own_namespace("aijob-system", set(), events, "ADDED", body("team-a"), "AIJob")
    assert not in_own_namespace(None, set(), events, "ADDED", body("aijob-system"), "AIJob")
    assert len(events) == 0


def test_an_empty_own_namespace_is_unset() -> None:
    assert OperatorConfig(own_namespace="").own_namespace is None


def test_the_own_namespace_cannot_be_watched(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIJOB_OPERATOR_OWN_NAMESPACE", "aijob-system")
    assert main(["--namespace", "aijob-system"]) == 2
    assert "own namespace" in capsys.readouterr().err


@pytest.mark.parametrize("prefixes", ['[""]', '["team", " "]'])
def test_an_empty_allowed_prefix_is_refused(monkeypatch: pytest.MonkeyPatch, prefixes: str) -> None:
    monkeypatch.setenv("AIJOB_OPERATOR_POD_LABEL_PREFIXES", prefixes)
    with pytest.raises(ValidationError, match="an empty prefix would allow every key"):
        OperatorConfig()


def test_allowed_prefixes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIJOB_OPERATOR_POD_ANNOTATION_PREFIXES", '["aijob.dev/fake-"]')
    assert OperatorConfig().pod_annotation_prefixes == ("aijob.dev/fake-",)
    assert OperatorConfig().pod_label_prefixes == ()
