"""The local storage backend and URI helpers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aijob_worker.storage import join_uri, storage_for
from aijob_worker.storage.local import LocalStorage, path_of
from aijob_worker.storage.s3 import split_s3_uri


def test_put_and_get_a_tree_with_checksums(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "a.bin").write_bytes(b"alpha")
    (source / "sub" / "b.txt").write_text("beta")
    storage = storage_for(f"file://{tmp_path}/store")
    stored = storage.put_tree(source, f"file://{tmp_path}/store/model")
    assert [item.relative_path for item in stored] == ["a.bin", "sub/b.txt"]
    assert stored[0].sha256 == hashlib.sha256(b"alpha").hexdigest()
    assert stored[0].size_bytes == 5
    assert stored[1].uri == f"file://{tmp_path}/store/model/sub/b.txt"
    fetched = storage.get_tree(f"file://{tmp_path}/store/model", tmp_path / "copy")
    assert (fetched / "sub" / "b.txt").read_text() == "beta"


def test_missing_objects_raise_file_not_found(tmp_path: Path) -> None:
    storage = LocalStorage()
    with pytest.raises(FileNotFoundError):
        storage.get_file(f"file://{tmp_path}/nothing", tmp_path / "x")
    with pytest.raises(FileNotFoundError):
        storage.get_tree(f"file://{tmp_path}/nothing", tmp_path / "y")
    assert not storage.exists(f"file://{tmp_path}/nothing")


@pytest.mark.parametrize(
    ("base", "parts", "expected"),
    [
        ("file:///a/", ("b", "/c/"), "file:///a/b/c"),
        ("s3://bucket", ("model", ""), "s3://bucket/model"),
        ("s3://bucket/x/", (), "s3://bucket/x"),
    ],
)
def test_join_uri(base: str, parts: tuple[str, ...], expected: str) -> None:
    assert join_uri(base, *parts) == expected


@pytest.mark.parametrize(
    ("uri", "path"),
    [("file:///var/lib/x", "/var/lib/x"), ("/tmp/y", "/tmp/y"), ("file:///a%20b", "/a b")],
)
def test_path_of(uri: str, path: str) -> None:
    assert path_of(uri) == Path(path)


@pytest.mark.parametrize("uri", ["file://host/x", "relative/path", "http://x/y"])
def test_path_of_refuses_non_local_uris(uri: str) -> None:
    with pytest.raises(ValueError, match="file"):
        path_of(uri)


def test_unsupported_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        storage_for("gs://bucket/x")


@pytest.mark.parametrize(
    ("uri", "bucket", "key"),
    [("s3://b/k/x.csv", "b", "k/x.csv"), ("s3://b", "b", "")],
)
def test_split_s3_uri(uri: str, bucket: str, key: str) -> None:
    assert split_s3_uri(uri) == (bucket, key)
