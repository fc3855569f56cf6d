"""Where a job's own code comes from: the mounted ConfigMap or an archive in the store.

A ConfigMap is mounted read-only at `aijob_api.code.CODE_MOUNT_PATH` (optional: a missing
one leaves the directory empty, which is bad input naming `spec.code.configMap`). An
archive is downloaded from the tenant's store and unpacked into the work directory;
members that would land outside it (absolute paths, `..`, links) are refused rather than
skipped. The entry point must then exist: a missing script names `spec.code.entrypoint`
with the files that are there.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from aijob_api.code import CodeSpec

from aijob_worker.errors import BadInputError
from aijob_worker.storage import storage_for

ARCHIVE_FIELD = "spec.code.archiveUri"
CONFIG_MAP_FIELD = "spec.code.configMap"
MAX_LISTED = 20


def code_files(root: Path) -> list[str]:
    """The code's files, relative (a ConfigMap volume's `..data` links left out)."""
    if not root.is_dir():
        return []
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not path.relative_to(root).as_posix().startswith("..")
    )


def fetch_code(code: CodeSpec, mount: Path, work_dir: Path) -> Path:
    """The directory holding the code (the mount, or the unpacked archive)."""
    if code.archive_uri is None:
        if not code_files(mount):
            raise BadInputError(
                CONFIG_MAP_FIELD,
                f"ConfigMap {code.config_map!r} does not exist in the job's namespace or is "
                f"empty (nothing mounted at {mount})",
            )
        return mount
    archive = work_dir / "code-archive"
    root = work_dir / "code"
    try:
        storage_for(code.archive_uri).get_file(code.archive_uri, archive)
    except Exception as error:  # a missing object: OSError here, botocore's own errors in s3
        problem = f"cannot download {code.archive_uri}: {error}"
        raise BadInputError(ARCHIVE_FIELD, problem) from error
    unpack(archive, root, name=code.archive_uri)
    return root


def unpack(archive: Path, into: Path, *, name: str) -> None:
    """Unpack a tar (optionally gzip) or zip archive, refusing members that leave `into`."""
    into.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.namelist():
                    _check_member(member, name)
                bundle.extractall(into)  # noqa: S202 - every member checked above
            return
        with tarfile.open(archive) as bundle:
            for info in bundle.getmembers():
                _check_member(info.name, name)
                if not (info.isfile() or info.isdir()):
                    raise BadInputError(
                        ARCHIVE_FIELD, f"{name}: {info.name!r} is not a file or a directory"
                    )
            bundle.extractall(into, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as error:
        raise BadInputError(ARCHIVE_FIELD, f"{name} is not a readable archive: {error}") from error


def _check_member(member: str, name: str) -> None:
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or "\\" in member:
        raise BadInputError(ARCHIVE_FIELD, f"{name}: member {member!r} would leave the code root")


def entry_script(code: CodeSpec, root: Path) -> Path | None:
    """The script to run (entrypoint mode), checked to exist; None in module mode."""
    if code.entrypoint is None:
        return None
    script = root / code.entrypoint
    if not script.is_file():
        files = code_files(root)
        listed = ", ".join(files[:MAX_LISTED]) + (" ..." if len(files) > MAX_LISTED else "")
        source = (
            f"ConfigMap {code.config_map!r}" if code.config_map else f"archive {code.archive_uri}"
        )
        raise BadInputError(
            "spec.code.entrypoint",
            f"{code.entrypoint} does not exist in {source} (it holds: {listed or 'nothing'})",
        )
    return script
