"""The CLI's artifact downloads: where a path may be written, and a file kept only when its
SHA-256 equals the one the job recorded (streamed, never held whole)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from aijob_cli.artifacts import destination, save
from aijob_cli.exitcodes import ExitCode

CHUNKS = [b"a" * 65536, b"b" * 65536, b"tail"]
SHA = hashlib.sha256(b"".join(CHUNKS)).hexdigest()


@pytest.mark.parametrize(
    ("path", "expected"),
    [("model/model.joblib", "model/model.joblib"), ("results.json", "results.json")],
)
def test_artifacts_go_below_the_output_directory(tmp_path: Path, path: str, expected: str) -> None:
    assert destination(tmp_path, path) == tmp_path / expected


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "a//b", "%2e%2e/x", ""])
def test_paths_that_leave_it_are_refused_naming_the_field(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError, match=r"^path: "):
        destination(tmp_path, path)


def test_a_verified_download_takes_its_name(tmp_path: Path) -> None:
    target = tmp_path / "model" / "model.joblib"
    saved = save(iter(CHUNKS), target, SHA.upper())
    assert saved.verified is True
    assert (saved.size, saved.sha256) == (sum(map(len, CHUNKS)), SHA)
    assert target.read_bytes() == b"".join(CHUNKS)
    assert not target.with_name("model.joblib.part").exists()


def test_a_mismatched_download_is_not_kept(tmp_path: Path) -> None:
    target = tmp_path / "model.joblib"
    target.write_bytes(b"the good copy from before")
    saved = save(iter(CHUNKS), target, "0" * 64)
    assert saved.verified is False
    assert saved.sha256 == SHA
    assert target.read_bytes() == b"the good copy from before"  # not replaced
    assert list(tmp_path.iterdir()) == [target]


def test_without_a_recorded_checksum_the_file_is_kept_and_said_unverified(tmp_path: Path) -> None:
    saved = save(iter(CHUNKS), tmp_path / "x.bin", None)
    assert saved.verified is None
    assert (tmp_path / "x.bin").read_bytes() == b"".join(CHUNKS)


def test_a_broken_stream_leaves_no_part_file(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"some"
        raise ConnectionError("the gateway went away")

    with pytest.raises(ConnectionError):
        save(broken(), tmp_path / "x.bin", SHA)
    assert list(tmp_path.iterdir()) == []


def test_a_checksum_mismatch_has_its_own_exit_code() -> None:
    assert int(ExitCode.CHECKSUM) == 13
    assert len({int(code) for code in ExitCode}) == len(ExitCode)
