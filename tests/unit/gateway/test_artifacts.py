"""A job's artifacts: the path rule that keeps a download below the job's prefix, the listing's
shape (paths below the prefix, the checksums the status recorded), the results link, signed
URLs, and the S3 client's failures as the gateway's errors."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from aijob_api.storage import MAX_ARTIFACT_PATH, artifact_path_problem
from aijob_gateway.errors import BadRequestError, NotFoundError, UnavailableError, UpstreamError
from aijob_gateway.object_store import ObjectReader, S3Credentials, StoredObject, store_errors
from aijob_gateway.services.artifacts import (
    artifact_items,
    checked_path,
    download_link,
    recorded,
    relative_path,
)
from minio.error import S3Error
from urllib3 import HTTPResponse
from urllib3.exceptions import NewConnectionError

from tests.unit.gateway.factories import make_job

JOB_URI = "s3://aijob-team-a/jobs/iris/"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "path",
    ["model/model.joblib", "results.json", "outputs/predictions.jsonl", "a/b/c.d..e", "ünï cødé"],
)
def test_paths_below_the_prefix_are_accepted(path: str) -> None:
    assert artifact_path_problem(path) is None
    assert checked_path(path) == path


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("", "required"),
        ("..", "'..'"),
        ("../other-job/model.joblib", "'..'"),
        ("model/../../other/x", "'..'"),
        ("./model.joblib", "'.'"),
        ("/etc/passwd", "absolute"),
        ("//aijob-team-b/jobs/x", "absolute"),
        ("model//model.joblib", "empty path segments"),
        ("model/", "empty path segments"),
        ("%2e%2e/secret", "percent-encoded"),
        ("model%2F..%2Fx", "percent-encoded"),
        ("..\\x", "backslashes"),
        ("model\x00.joblib", "control characters"),
        ("model\n", "control characters"),
        ("a" * (MAX_ARTIFACT_PATH + 1), "longer than"),
    ],
)
def test_paths_that_could_leave_the_prefix_are_refused_naming_the_field(
    path: str, says: str
) -> None:
    problem = artifact_path_problem(path)
    assert problem is not None
    assert says in problem
    with pytest.raises(BadRequestError) as raised:
        checked_path(path)
    assert raised.value.field == "path"
    assert raised.value.status == 400
    assert raised.value.detail.startswith("path: ")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (f"{JOB_URI}model/model.joblib", "model/model.joblib"),
        (f"{JOB_URI}results.json", "results.json"),
        (JOB_URI, None),
        ("s3://aijob-team-a/jobs/iris-2/model/model.joblib", None),
        ("s3://aijob-team-b/jobs/iris/model/model.joblib", None),
        (f"{JOB_URI}model/../../x", None),
    ],
)
def test_relative_path(uri: str, expected: str | None) -> None:
    assert relative_path(uri, JOB_URI) == expected


def _trained() -> dict[str, object]:
    return {
        "phase": "Succeeded",
        "results": {
            "modelUri": f"{JOB_URI}model",
            "resultsUri": f"{JOB_URI}results.json",
            "artifacts": [
                {
                    "name": "model/model.joblib",
                    "uri": f"{JOB_URI}model/model.joblib",
                    "sha256": "a" * 64,
                    "sizeBytes": 10,
                },
                {"name": "results.json", "uri": f"{JOB_URI}results.json", "sha256": "b" * 64},
                {"name": "elsewhere", "uri": "s3://aijob-team-a/jobs/other/x", "sha256": "c" * 64},
            ],
        },
    }


def test_the_listing_shows_paths_below_the_prefix_with_the_recorded_checksums() -> None:
    job = make_job("iris", status=_trained())
    known = recorded(job, JOB_URI)
    assert set(known) == {"model/model.joblib", "results.json"}
    objects = [
        StoredObject("jobs/iris/results.json", 7, WHEN, "e1"),
        StoredObject("jobs/iris/model/model.joblib", 10, WHEN, "e2"),
        StoredObject("jobs/iris/checkpoints/epoch-1.ckpt", 3, None, None),
        StoredObject("jobs/iris-2/model/model.joblib", 10, WHEN, None),  # not this job's
    ]
    items = artifact_items(objects, "jobs/iris/", known)
    assert [item.model_dump(mode="json", by_alias=True) for item in items] == [
        {
            "path": "checkpoints/epoch-1.ckpt",
            "sizeBytes": 3,
            "lastModified": None,
            "sha256": None,
            "name": None,
        },
        {
            "path": "model/model.joblib",
            "sizeBytes": 10,
            "lastModified": "2026-01-02T03:04:05Z",
            "sha256": "a" * 64,
            "name": "model/model.joblib",
        },
        {
            "path": "results.json",
            "sizeBytes": 7,
            "lastModified": "2026-01-02T03:04:05Z",
            "sha256": "b" * 64,
            "name": "results.json",
        },
    ]


def test_the_results_link_names_the_artifact_route() -> None:
    job = make_job("iris", status=_trained())
    assert (
        download_link(job, JOB_URI, f"{JOB_URI}results.json")
        == "/v1/jobs/iris/artifacts/results.json"
    )
    assert download_link(job, JOB_URI, None) is None
    assert download_link(job, JOB_URI, "s3://aijob-team-b/jobs/iris/results.json") is None


def test_a_signed_url_is_for_the_presign_endpoint_and_expires() -> None:
    reader = ObjectReader("http://10.0.0.1:9000", "us-east-1", "https://s3.example.test")
    url = reader.presign(S3Credentials("tenant-key", "tenant-secret"), "aijob-a", "jobs/j/m", 120)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "s3.example.test",
        "/aijob-a/jobs/j/m",
    )
    assert query["X-Amz-Expires"] == ["120"]
    assert query["X-Amz-Credential"][0].startswith("tenant-key/")
    assert "tenant-secret" not in url


def test_an_endpoint_that_is_no_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        ObjectReader("minio:9000", "us-east-1")


def _s3_error(code: str) -> S3Error:
    response = HTTPResponse(body=b"", status=404 if code.startswith("NoSuch") else 403)
    return S3Error(response, code, f"{code} message", "jobs/x", "req", "host")


@pytest.mark.parametrize(
    ("error", "expected", "says"),
    [
        (_s3_error("NoSuchKey"), NotFoundError, "no such object"),
        (_s3_error("NoSuchBucket"), NotFoundError, "no such object"),
        (_s3_error("AccessDenied"), UpstreamError, "refused the tenant's credentials"),
        (NewConnectionError(None, "refused"), UnavailableError, "cannot be reached"),  # type: ignore[arg-type]
        (ConnectionRefusedError(111, "refused"), UnavailableError, "cannot be reached"),
    ],
)
def test_store_failures_become_the_gateways_errors(
    error: Exception, expected: type[Exception], says: str
) -> None:
    with pytest.raises(expected) as raised, store_errors("read s3://b/k"):
        raise error
    assert says in str(raised.value)
    assert str(raised.value).startswith("read s3://b/k")
