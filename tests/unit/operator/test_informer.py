"""The informer's cache: views by owning AIJob, changes detected, children moved or gone."""

from __future__ import annotations

from aijob_operator.informer import ChildCache


def test_apply_reports_only_changes() -> None:
    cache = ChildCache()
    assert cache.apply("u1", ("ns", "a"), ("Running", 1))
    assert not cache.apply("u1", ("ns", "a"), ("Running", 1)), "same view, no reconcile"
    assert cache.apply("u1", ("ns", "a"), ("Succeeded", 1))
    assert list(cache.get(("ns", "a"))) == [("Succeeded", 1)]
    assert list(cache.get(("ns", "b"))) == []


def test_remove_and_namespaces() -> None:
    cache = ChildCache()
    cache.apply("u1", ("ns", "a"), "x")
    cache.apply("u2", ("ns", "a"), "y")
    cache.apply("u3", ("other", "b"), "z")
    assert cache.uids_in("ns") == {"u1", "u2"}
    assert cache.uids_in(None) == {"u1", "u2", "u3"}
    assert cache.remove("u1") == ("ns", "a")
    assert cache.remove("u1") is None
    assert list(cache.get(("ns", "a"))) == ["y"]
    assert cache.remove("u2") == ("ns", "a")
    assert list(cache.get(("ns", "a"))) == []
    assert len(cache) == 1


def test_a_relabelled_child_moves_to_its_new_owner() -> None:
    cache = ChildCache()
    cache.apply("u1", ("ns", "a"), "x")
    cache.apply("u1", ("ns", "b"), "x")
    assert list(cache.get(("ns", "a"))) == []
    assert list(cache.get(("ns", "b"))) == ["x"]
