"""The RFC 9457 problem document every error of the gateway is answered with."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ProblemField(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class Problem(BaseModel):
    """application/problem+json: what went wrong, and which field when one is at fault."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    type: Annotated[str, Field(description="A URI naming the kind of problem.")]
    title: str
    status: int
    detail: str
    instance: Annotated[str | None, Field(description="The request path.")] = None
    request_id: Annotated[str | None, Field(description="The X-Request-ID of the request.")] = None
    field: Annotated[str | None, Field(description="The field at fault, when one is.")] = None
    errors: Annotated[
        list[ProblemField], Field(description="Every invalid field (validation errors).")
    ] = Field(default_factory=list)
    error: Annotated[
        str | None,
        Field(
            description=(
                "The Open Inference Protocol's error string (the detail), on the routes under "
                "/v1/endpoints/{name}/v2 only: what V2 clients such as tritonclient raise."
            )
        ),
    ] = None
