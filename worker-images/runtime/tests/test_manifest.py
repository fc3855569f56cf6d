"""Manifests: checksums written at save time and verified at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from aijob_worker.manifest import Manifest, ManifestError, read_manifest, write_manifest


def make_model(directory: Path) -> Manifest:
    directory.mkdir()
    (directory / "weights.bin").write_bytes(b"\x00\x01\x02")
    return write_manifest(
        directory, Manifest(model_type="svm", framework="sklearn", metadata={"classes": ["a"]})
    )


def test_round_trip(tmp_path: Path) -> None:
    written = make_model(tmp_path / "m")
    read = read_manifest(tmp_path / "m")
    assert read.files == written.files
    assert list(read.files) == ["weights.bin"]
    assert read.metadata == {"classes": ["a"]}


def test_an_altered_file_is_refused(tmp_path: Path) -> None:
    make_model(tmp_path / "m")
    (tmp_path / "m" / "weights.bin").write_bytes(b"tampered")
    with pytest.raises(ManifestError, match="does not match its SHA-256"):
        read_manifest(tmp_path / "m")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    make_model(tmp_path / "m")
    (tmp_path / "m" / "weights.bin").unlink()
    with pytest.raises(ManifestError, match="missing"):
        read_manifest(tmp_path / "m")


def test_a_directory_without_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not a model saved by aijob"):
        read_manifest(tmp_path)
