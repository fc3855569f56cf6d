"""Status writes: the API server's failures classified (the patch: aijob_api.status_patch)."""

from __future__ import annotations

import pytest
from lightkube import ApiError
from lightkube.models.meta_v1 import Status, StatusCause, StatusDetails

from aijob_worker.status import classify_api_error, patch_did_not_apply

UID = "0b7c6f0e-6a56-4b8e-9d1c-2f3e4a5b6c7d"


def api_error(code: int, message: str, details: StatusDetails | None = None) -> ApiError:
    return ApiError(status=Status(code=code, reason="Reason", message=message, details=details))


@pytest.mark.parametrize(
    ("code", "retryable", "permanent"),
    [
        (400, False, False),
        (403, False, False),
        (413, False, False),
        (422, False, False),
        (404, False, True),
        (409, False, True),
        (410, False, True),
        (401, True, False),
        (429, True, False),
        (500, True, False),
        (503, True, False),
    ],
)
def test_failures_are_classified(code: int, retryable: bool, permanent: bool) -> None:
    error = classify_api_error(api_error(code, "the API server's words"))
    assert (error.retryable, error.permanent, error.code) == (retryable, permanent, code)
    assert error.refused == (not retryable and not permanent)
    assert "the API server's words" in str(error)


def test_a_patch_that_did_not_apply_is_told_from_an_invalid_status() -> None:
    bare = api_error(422, "the server rejected our request due to an error in our request")
    invalid = api_error(
        422,
        'AIJob.aijob.dev "p" is invalid: status.progress.percent: Invalid value: 500',
        StatusDetails(
            name="p",
            causes=[StatusCause(field="status.progress.percent", message="Invalid value: 500")],
        ),
    )
    assert patch_did_not_apply(bare)
    assert patch_did_not_apply(api_error(422, "x", StatusDetails()))
    assert not patch_did_not_apply(invalid)
    assert not patch_did_not_apply(api_error(400, "bad"))
