"""Responses serialised once, by pydantic, straight to JSON bytes.

FastAPI would dump a returned model to a dict, validate it again against the
`response_model` and encode it; for the hot read routes the route returns the JSON
of the model it has already built (`response_model` still documents the shape).
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


class ModelResponse(Response):
    """A JSON response of one pydantic model (camelCase aliases, no nulls dropped)."""

    media_type = "application/json"

    def __init__(
        self, model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(
            content=model.model_dump_json(by_alias=True), status_code=status_code, headers=headers
        )
