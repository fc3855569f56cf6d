"""Install `spec.code.requirements` before the job's own code runs.

The images keep no package installer on their PATH; the one `uv` binary they keep for
this is off it (`DEFAULT_UV`). It installs into a directory of the pod's own
(`aijob_api.code.REQUIREMENTS_DIR`, on the scratch emptyDir) from the package index the
runtime catalog names (the `AIJOB_REQUIREMENTS_*` variables the operator sets only where
the catalog allows the job's namespace to install), with no cache and no configuration
file, and with an environment free of `UV_*` and `PIP_*` variables, so a job's own `env`
cannot point it at another index. The image's own distributions are excluded from the
resolution (`--excludes`): they are never installed again, so a requirement cannot shadow
the framework the image was built with. The directory then goes first on `sys.path` and on
`PYTHONPATH` (the processes torchrun starts inherit it); a marker file holding the
requirements lets those processes skip the install the launcher already did.

A requirement that cannot be installed (no such package or version, no index reachable,
an install past its timeout) is bad input: the job fails once, not retried, with uv's
own last lines, joined on one line, in the message. The installed versions go to the job's log.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final

from aijob_api.code import (
    ENV_REQUIREMENTS_EXTRA_INDEX_URLS,
    ENV_REQUIREMENTS_INDEX_URL,
    ENV_REQUIREMENTS_TIMEOUT,
    ENV_REQUIREMENTS_TRUSTED_HOSTS,
    REQUIREMENTS_DIR,
)

from aijob_worker.errors import BadInputError

logger = logging.getLogger(__name__)

FIELD: Final = "spec.code.requirements"
DEFAULT_UV: Final = "/opt/aijob/bin/uv"
"""Where the images keep uv, off PATH, for this install only."""
ENV_UV: Final = "AIJOB_REQUIREMENTS_UV"
"""Another uv binary (runs by hand and tests)."""
ENV_DIR: Final = "AIJOB_REQUIREMENTS_DIR"
"""Another target directory (runs by hand and tests)."""
DEFAULT_TIMEOUT_SECONDS: Final = 600.0
MARKER: Final = ".aijob-requirements.json"
EXCLUDES_FILE: Final = ".aijob-image-packages.txt"
TAIL_LINES: Final = 12
MAX_TAIL_CHARS: Final = 2000
UV_CROSS: Final = "\u00d7"
"""How uv starts a resolution error (a multiplication sign)."""
SCRUBBED_PREFIXES: Final = ("UV_", "PIP_")
"""Variables that would change what uv installs or from where: never passed to it."""


@dataclass(frozen=True)
class InstallSettings:
    """Where the requirements come from, with what, into where, within how long."""

    index_url: str | None
    extra_index_urls: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    uv: str = DEFAULT_UV
    target: Path = Path(REQUIREMENTS_DIR)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InstallSettings:
        """The settings the operator put in the environment (see `aijob_api.code`)."""
        raw_timeout = env.get(ENV_REQUIREMENTS_TIMEOUT, "")
        try:
            timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT_SECONDS
        except ValueError as error:
            raise BadInputError(
                ENV_REQUIREMENTS_TIMEOUT, f"not a number: {raw_timeout!r}"
            ) from error
        return cls(
            index_url=env.get(ENV_REQUIREMENTS_INDEX_URL) or None,
            extra_index_urls=tuple(env.get(ENV_REQUIREMENTS_EXTRA_INDEX_URLS, "").split()),
            trusted_hosts=tuple(env.get(ENV_REQUIREMENTS_TRUSTED_HOSTS, "").split()),
            timeout_seconds=timeout,
            uv=env.get(ENV_UV) or DEFAULT_UV,
            target=Path(env.get(ENV_DIR) or REQUIREMENTS_DIR),
        )


def install_command(
    requirements: Sequence[str], settings: InstallSettings, excludes: Path
) -> list[str]:
    """The uv command that installs `requirements` into the settings' target directory."""
    if settings.index_url is None:
        raise BadInputError(
            FIELD,
            "no package index is set for this job (the runtime catalog's requirements rule "
            f"names it as {ENV_REQUIREMENTS_INDEX_URL})",
        )
    command = [settings.uv, "pip", "install", "--target", str(settings.target)]
    command += ["--python", sys.executable, "--no-cache", "--no-config", "--no-progress"]
    command += ["--default-index", settings.index_url]
    for url in settings.extra_index_urls:
        command += ["--index", url]
    for host in settings.trusted_hosts:
        command += ["--allow-insecure-host", host]
    command += ["--excludes", str(excludes)]
    return [*command, "--", *requirements]


def installer_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment uv runs with: the worker's, less every `UV_*` and `PIP_*` variable."""
    return {key: value for key, value in env.items() if not key.startswith(SCRUBBED_PREFIXES)}


def tail(text: str) -> str:
    """uv's own error on one line: its last lines from the first `error:` (or `UV_CROSS`) on,
    joined (the operator puts a failure message's last line into the AIJob's status)."""
    lines = [line.strip() for line in text.rstrip().splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if line.startswith(("error", UV_CROSS))]
    lines = lines[starts[0] :] if starts else lines
    joined = " ".join(lines[-TAIL_LINES:])
    return joined if len(joined) <= MAX_TAIL_CHARS else "..." + joined[-MAX_TAIL_CHARS:]


def failure(returncode: int, output: str) -> BadInputError:
    """The job's error for an install that failed: uv's last lines, on one line."""
    said = tail(output) or f"uv exited with status {returncode}"
    return BadInputError(FIELD, f"could not be installed: {said}")


def image_packages(target: Path) -> list[str]:
    """The names of the distributions this interpreter already has (the target's aside)."""
    names: set[str] = set()
    for distribution in metadata.distributions():
        location = Path(str(distribution.locate_file(""))).resolve()
        if location == target.resolve():
            continue
        name = distribution.metadata["Name"]
        if name:
            names.add(name)
    return sorted(names, key=str.lower)


def installed_versions(target: Path) -> dict[str, str]:
    """Name to version of each distribution in the target directory."""
    versions: dict[str, str] = {}
    for distribution in metadata.distributions(path=[str(target)]):
        versions[distribution.metadata["Name"]] = distribution.version
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))


def install(
    requirements: Sequence[str], settings: InstallSettings, env: Mapping[str, str]
) -> dict[str, str]:
    """Install `requirements` into the target; return the versions there (see the module)."""
    settings.target.mkdir(parents=True, exist_ok=True)
    excludes = settings.target.parent / EXCLUDES_FILE
    excludes.write_text("\n".join(image_packages(settings.target)) + "\n", encoding="utf-8")
    command = install_command(requirements, settings, excludes)
    logger.info(
        "installing requirements",
        extra={"event": "requirements", "requirements": list(requirements)},
    )
    try:
        done = subprocess.run(  # a fixed program; the requirements are validated
            command,
            env=installer_env(env),
            capture_output=True,
            text=True,
            timeout=settings.timeout_seconds,
            check=False,
        )
    except FileNotFoundError as error:
        raise BadInputError(FIELD, f"this image has no installer at {settings.uv}") from error
    except subprocess.TimeoutExpired as error:
        raise BadInputError(
            FIELD,
            f"the install took longer than {settings.timeout_seconds:g} s (the runtime "
            "catalog's requirements.timeoutSeconds)",
        ) from error
    if done.returncode != 0:
        raise failure(done.returncode, done.stderr or done.stdout)
    versions = installed_versions(settings.target)
    logger.info(
        "requirements installed: "
        + (", ".join(f"{name}=={version}" for name, version in versions.items()) or "nothing"),
        extra={"event": "requirements_installed", "installed": versions},
    )
    return versions


def ensure_requirements(requirements: Sequence[str], env: Mapping[str, str]) -> Path | None:
    """Install the requirements unless done already in this pod, then make them importable."""
    if not requirements:
        return None
    settings = InstallSettings.from_env(env)
    marker = settings.target / MARKER
    wanted = json.dumps(list(requirements))
    try:
        done = marker.read_text(encoding="utf-8") == wanted
    except OSError:
        done = False
    if not done:
        install(requirements, settings, env)
        marker.write_text(wanted, encoding="utf-8")
    activate(settings.target)
    return settings.target


def activate(target: Path) -> None:
    """Put `target` first on `sys.path` (this process) and `PYTHONPATH` (its children)."""
    where = str(target)
    if where not in sys.path:
        sys.path.insert(0, where)
    paths = [item for item in os.environ.get("PYTHONPATH", "").split(os.pathsep) if item]
    if where not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([where, *paths])
    importlib.invalidate_caches()
