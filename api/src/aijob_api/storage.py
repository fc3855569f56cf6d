"""Each tenant's own artifact store, and the rule that keeps every URI of a job inside it.

A tenant is a namespace. In `s3` mode its store is one bucket (named from the operator's
bucket template, `aijob-{namespace}` by default) reached with credentials of its own, kept
in the Secret `aijob-storage` of its namespace; a job's artifacts go below
`s3://<bucket>/jobs/<job>/`. In `hostPath` mode (single-tenant development only) the
store is the directory `<artifacts root>/<namespace>/` of a node's filesystem.

`spec_uri_problem` is the one confinement rule, pure so the operator (which refuses such
a job before any pod exists) and the gateway (422 at submission) apply the same one: every
URI a spec names (`dataset.uri`, `model.source.uri`, `model.pretrained.uri`, `input.uri`,
`code.archiveUri`, any hyperparameter that is a path, such as the text runner's
`modelDir`) must lie inside the tenant's store. A URI is refused rather than normalised
when it could mean two things: percent-encoding, `.` or `..` segments, empty segments,
backslashes, control characters, user info, ports, queries and fragments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from aijob_api.spec import AIJobSpec

STORAGE_SECRET: Final = "aijob-storage"  # noqa: S105 - a Secret's name, not a secret
"""The Secret in each tenant namespace that holds the tenant's own S3 credentials."""
SECRET_ACCESS_KEY: Final = "AWS_ACCESS_KEY_ID"  # noqa: S105 - a key name
"""Key of the access key id in the tenant's Secret (also the variable boto3 reads)."""
SECRET_SECRET_KEY: Final = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a key name
"""Key of the secret access key in the tenant's Secret (also the variable boto3 reads)."""
SECRET_BUCKET_KEY: Final = "bucket"  # noqa: S105 - a key name
"""Key of the tenant's bucket name in its Secret (informative: the operator derives it)."""
KEEP_ARTIFACTS_ANNOTATION: Final = "aijob.dev/keep-artifacts"
"""`"true"` on an AIJob keeps its artifacts when it is deleted or its TTL runs out."""
DEFAULT_BUCKET_TEMPLATE: Final = "aijob-{namespace}"
"""The tenant bucket's name; `{namespace}` is replaced by the tenant's namespace."""
JOBS_PREFIX: Final = "jobs"
"""A job's artifacts go below `s3://<bucket>/jobs/<job>/`."""

_BUCKET: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_PATH_SCHEMES: Final = ("file:", "s3:")


class StorageMode(StrEnum):
    """Where the artifacts of jobs are kept."""

    S3 = "s3"
    """An S3-compatible store, a bucket and credentials per tenant (the default)."""
    HOST_PATH = "hostPath"
    """A directory on the node shared by every job: single-tenant development only."""


@dataclass(frozen=True)
class TenantStore:
    """One tenant's store: a bucket (`s3`) or a directory (`file`)."""

    scheme: str
    """`s3` or `file`."""
    root: str
    """The bucket name, or the absolute directory without a trailing slash."""

    @property
    def uri(self) -> str:
        """The store's own URI, with a trailing slash."""
        if self.scheme == "s3":
            return f"s3://{self.root}/"
        return f"file://{self.root}/"

    def job_uri(self, job: str) -> str:
        """Where one job writes its model and artifacts (a prefix, trailing slash)."""
        if self.scheme == "s3":
            return f"{self.uri}{JOBS_PREFIX}/{job}/"
        return f"{self.uri}{job}"


def bucket_problem(bucket: str) -> str | None:
    """Why `bucket` is not a valid S3 bucket name, or None when it is."""
    if not _BUCKET.match(bucket) or ".." in bucket or bucket.startswith("xn--"):
        return (
            f"{bucket!r} is not a valid bucket name (3 to 63 lowercase letters, digits, "
            "'-' or '.', beginning and ending with a letter or digit)"
        )
    return None


def tenant_bucket(namespace: str, template: str = DEFAULT_BUCKET_TEMPLATE) -> str:
    """The bucket of the tenant `namespace`; ValueError when the result is no bucket name."""
    if "{namespace}" not in template:
        raise ValueError(f"bucket template {template!r} must contain {{namespace}}")
    bucket = template.replace("{namespace}", namespace)
    problem = bucket_problem(bucket)
    if problem is not None:
        raise ValueError(f"bucket of namespace {namespace!r}: {problem}")
    return bucket


def tenant_store(
    mode: StorageMode, namespace: str, *, bucket_template: str, artifacts_root: str
) -> TenantStore:
    """The store of tenant `namespace` under the cluster's storage settings."""
    if mode is StorageMode.S3:
        return TenantStore("s3", tenant_bucket(namespace, bucket_template))
    return TenantStore("file", f"{artifacts_root.rstrip('/')}/{namespace}")


def uri_problem(uri: str, store: TenantStore) -> str | None:
    """Why `uri` is not inside `store`, in words, or None when it is."""
    if _CONTROL.search(uri) or "\\" in uri:
        return "control characters and backslashes are not accepted"
    if "%" in uri:
        return "percent-encoded characters are not accepted; write the path as it is"
    if uri.startswith("/"):
        uri = f"file://{uri}"
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as error:
        return f"not a valid URI ({error})"
    if parts.scheme != store.scheme:
        return f"only {store.scheme}:// URIs inside this namespace's store {store.uri} are accepted"
    if parts.query or parts.fragment or uri.endswith(("?", "#")):
        return "queries and fragments are not accepted"
    if parts.username is not None or parts.password is not None or port is not None:
        return "user info and ports are not accepted in the URI"
    segments = parts.path.split("/")[1:]
    if any(segment in (".", "..") for segment in segments):
        return "'.' and '..' path segments are not accepted"
    if any(segment == "" for segment in segments[:-1]):
        return "empty path segments ('//') are not accepted"
    if store.scheme == "s3":
        if parts.netloc != store.root:
            return f"outside this namespace's store {store.uri} (bucket {parts.netloc!r})"
        return None
    if parts.netloc not in ("", "localhost"):
        return "file URIs must name a local absolute path (file:///path)"
    if not parts.path.startswith(f"{store.root}/"):
        return f"outside this namespace's store {store.uri}"
    return None


MAX_ARTIFACT_PATH: Final = 1024
"""Longest path (UTF-8 bytes) of one artifact below its job's prefix (S3 keys stop at 1024)."""


def artifact_path_problem(path: str) -> str | None:
    """Why `path` cannot name one object below a job's artifact prefix, or None when it can.

    The path is relative to the job's artifact URI (`model/model.joblib`): refused rather than
    normalised when it could leave the prefix or mean two things (absolute, `.`, `..` or
    empty segments, backslashes, percent-encoding, control characters)."""
    if not path:
        return "an artifact path is required"
    if len(path.encode()) > MAX_ARTIFACT_PATH:
        return f"longer than {MAX_ARTIFACT_PATH} bytes"
    if _CONTROL.search(path) or "\\" in path:
        return "control characters and backslashes are not accepted"
    if "%" in path:
        return "percent-encoded characters are not accepted; write the path as it is"
    if path.startswith("/"):
        return "must be relative to the job's artifacts, not absolute"
    segments = path.split("/")
    if any(segment in (".", "..") for segment in segments):
        return "'.' and '..' path segments are not accepted"
    if any(segment == "" for segment in segments):
        return "empty path segments ('//', a trailing '/') are not accepted"
    return None


def is_path_like(value: str) -> bool:
    """Whether a hyperparameter's string value names a file, a directory or an object."""
    return value.startswith(("/", "~", "./", "../", *_PATH_SCHEMES)) or "://" in value


def spec_uris(spec: AIJobSpec) -> Iterator[tuple[str, str]]:
    """Every (field, URI or path) the spec names, fields as `spec.dataset.uri`."""
    if spec.dataset is not None and spec.dataset.uri is not None:
        yield "spec.dataset.uri", spec.dataset.uri
    source = spec.model.source
    if source is not None and source.uri is not None:
        yield "spec.model.source.uri", source.uri
    pretrained = spec.model.pretrained
    if pretrained is not None and pretrained.uri is not None:
        yield "spec.model.pretrained.uri", pretrained.uri
    if spec.input is not None and spec.input.uri is not None:
        yield "spec.input.uri", spec.input.uri
    if spec.code is not None and spec.code.archive_uri is not None:
        yield "spec.code.archiveUri", spec.code.archive_uri
    yield from _paths_in("spec.model.hyperparameters", spec.model.hyperparameters)


def _paths_in(where: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if is_path_like(value):
            yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _paths_in(f"{where}.{key}", item)
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from _paths_in(f"{where}[{index}]", item)


def spec_uri_problem(spec: AIJobSpec, store: TenantStore) -> tuple[str, str] | None:
    """The first (field, message) naming a URI outside the tenant's store, or None."""
    for field, uri in spec_uris(spec):
        problem = uri_problem(uri, store)
        if problem is not None:
            return field, f"{field}: {uri!r}: {problem}"
    return None
