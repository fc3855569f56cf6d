"""Print the content hash of an image build: its Dockerfile, the files it copies, extras.

The hash names a locally built image (`localhost/aijob/<name>:<hash>`), so an image is
rebuilt only when something it is made of changed. The files counted are the sources of
the Dockerfile's COPY/ADD instructions (not those copying from another stage), expanded
against the context's files that git would see (tracked, or untracked but not ignored).
Extras (`--extra key=value`) add what the Dockerfile alone does not say, such as the ID
of the base image the build argument points at.

Usage: python3 content_hash.py --dockerfile DOCKERFILE --context DIR [--extra K=V]...
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import shlex
import subprocess
from pathlib import Path

_HASH_LENGTH = 12


def logical_lines(text: str) -> list[str]:
    """Join backslash-continued lines and drop comments, as the Dockerfile parser does."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current.strip():
        lines.append(current)
    return lines


def copy_sources(dockerfile_text: str) -> list[str]:
    """The context paths (or globs) that COPY/ADD instructions read."""
    sources: list[str] = []
    for line in logical_lines(dockerfile_text):
        instruction, _, rest = line.partition(" ")
        if instruction.upper() not in {"COPY", "ADD"}:
            continue
        rest = rest.strip()
        flags: list[str] = []
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            flags.append(flag)
            rest = rest.strip()
        if any(flag.startswith("--from=") for flag in flags):
            continue
        words: list[str] = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        sources.extend(word.removeprefix("./") for word in words[:-1])
    return sources


def context_files(context: Path) -> list[str]:
    """Files of the context that git sees (tracked, or untracked and not ignored)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=context,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({name for name in listing.split("\0") if name and (context / name).is_file()})


def matches(path: str, source: str) -> bool:
    """Whether a context file is (under) a COPY source."""
    source = source.rstrip("/")
    if source in {"", "."}:
        return True
    if path == source or path.startswith(source + "/"):
        return True
    return fnmatch.fnmatch(path, source) or fnmatch.fnmatch(path, source + "/*")


def content_hash(dockerfile: Path, context: Path, extras: list[str]) -> str:
    """The hash of a build (see the module docstring)."""
    text = dockerfile.read_text()
    digest = hashlib.sha256()
    digest.update(b"dockerfile\0" + text.encode() + b"\0")
    for extra in sorted(extras):
        digest.update(b"extra\0" + extra.encode() + b"\0")
    sources = copy_sources(text)
    for name in context_files(context):
        if any(matches(name, source) for source in sources):
            path = context / name
            executable = b"x" if path.stat().st_mode & 0o111 else b"-"
            digest.update(b"file\0" + name.encode() + b"\0" + executable)
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:_HASH_LENGTH]


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dockerfile", type=Path, required=True)
    parser.add_argument("--context", type=Path, required=True)
    parser.add_argument("--extra", action="append", default=[])
    args = parser.parse_args()
    print(content_hash(args.dockerfile, args.context, args.extra))


if __name__ == "__main__":
    main()
