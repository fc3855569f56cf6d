"""The one error mapping: each answer of the API server, and its silence, to aijob's exception."""

from __future__ import annotations

import httpx2
import pytest
from aijob_kube.errors import (
    AlreadyExistsError,
    ConflictError,
    ExpiredError,
    FieldCause,
    ForbiddenError,
    InvalidError,
    KubeError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
    kube_errors,
)
from lightkube import ApiError
from lightkube.models.meta_v1 import Status, StatusCause, StatusDetails


def refusal(
    code: int, reason: str = "", details: StatusDetails | None = None, message: str = "no"
) -> ApiError:
    return ApiError(status=Status(code=code, reason=reason, message=message, details=details))


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (404, "NotFound", NotFoundError),
        (409, "AlreadyExists", AlreadyExistsError),
        (409, "Conflict", ConflictError),
        (410, "Expired", ExpiredError),
        (400, "BadRequest", InvalidError),
        (422, "Invalid", InvalidError),
        (401, "Unauthorized", UnauthorizedError),
        (403, "Forbidden", ForbiddenError),
        (429, "TooManyRequests", UnavailableError),
        (500, "InternalError", UnavailableError),
        (503, "ServiceUnavailable", UnavailableError),
        (418, "Teapot", KubeError),
    ],
)
def test_each_answer_becomes_its_exception(
    code: int, reason: str, expected: type[KubeError]
) -> None:
    with pytest.raises(KubeError) as raised, kube_errors("read AIJob ns/a"):
        raise refusal(code, reason)
    assert type(raised.value) is expected
    assert raised.value.code == code
    assert raised.value.answered
    assert str(raised.value) == "read AIJob ns/a: no"
    assert isinstance(raised.value.__cause__, ApiError)


def test_a_plain_conflict_is_not_already_exists() -> None:
    with pytest.raises(ConflictError) as raised, kube_errors("patch"):
        raise refusal(409, "Conflict")
    assert not isinstance(raised.value, AlreadyExistsError)


def test_invalid_fields_and_retry_after_are_kept() -> None:
    details = StatusDetails(
        causes=[
            StatusCause(field="spec.task", message="Unsupported value"),
            StatusCause(reason="FieldValueRequired"),
        ],
        retryAfterSeconds=3,
    )
    with pytest.raises(InvalidError) as raised, kube_errors("create"):
        raise refusal(422, "Invalid", details)
    assert raised.value.causes == (
        FieldCause(field="spec.task", message="Unsupported value"),
        FieldCause(field="", message="FieldValueRequired"),
    )
    assert raised.value.retry_after == 3


@pytest.mark.parametrize(
    "silence", [httpx2.ConnectError("refused"), httpx2.ReadTimeout("slow"), ConnectionResetError()]
)
def test_no_answer_is_unavailable_without_a_code(silence: Exception) -> None:
    with pytest.raises(UnavailableError) as raised, kube_errors("list nodes"):
        raise silence
    assert raised.value.code is None
    assert not raised.value.answered
    assert str(raised.value) == (
        f"list nodes: the Kubernetes API server did not answer ({type(silence).__name__})"
    )


def test_other_exceptions_pass_through() -> None:
    with pytest.raises(ValueError, match="a bug"), kube_errors("anything"):
        raise ValueError("a bug")
