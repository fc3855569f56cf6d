"""Inference requests and answers of the Open Inference Protocol (KServe V2), JSON or binary.

A request is JSON, or (binary tensor data extension) a JSON header of
`Inference-Header-Content-Length` bytes followed by the binary data of the
inputs whose `parameters.binary_data_size` says so, in input order. An answer
carries an output in binary when the request asks (`outputs[i].parameters.
binary_data`, or `parameters.binary_data_output` for all of them), else in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final

from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aijob_worker.serve.errors import invalid, malformed
from aijob_worker.serve.tensors import (
    array_from_binary,
    array_from_json,
    array_to_binary,
    array_to_json,
)

HEADER_LENGTH: Final = "Inference-Header-Content-Length"
BINARY_DATA_SIZE: Final = "binary_data_size"
BINARY_DATA: Final = "binary_data"
BINARY_DATA_OUTPUT: Final = "binary_data_output"
JSON_MEDIA_TYPE: Final = "application/json"
BINARY_MEDIA_TYPE: Final = "application/octet-stream"


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RequestInput(_Message):
    """One input tensor of a request (its data in `data`, or binary after the header)."""

    name: Annotated[str, Field(min_length=1)]
    shape: list[Annotated[int, Field(ge=0)]]
    datatype: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    data: Any = None


class RequestOutput(_Message):
    """An output the client asks for."""

    name: Annotated[str, Field(min_length=1)]
    parameters: dict[str, Any] = Field(default_factory=dict)


class InferRequest(_Message):
    """The JSON part of a V2 inference request."""

    id: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    inputs: Annotated[list[RequestInput], Field(min_length=1)]
    outputs: list[RequestOutput] | None = None


@dataclass(frozen=True)
class DecodedRequest:
    """A request with each input's tensor decoded (same order as `request.inputs`)."""

    request: InferRequest
    arrays: list[NDArray[Any]]


@dataclass(frozen=True)
class OutputTensor:
    """One output of an answer."""

    name: str
    datatype: str
    array: NDArray[Any]


def decode_request(body: bytes, header_length: str | None) -> DecodedRequest:
    """Parse a request body (JSON, or JSON header plus binary data) and decode its inputs."""
    if header_length is None:
        header, binary = body, b""
    else:
        try:
            length = int(header_length)
        except ValueError:
            length = -1
        if not 0 <= length <= len(body):
            raise malformed(
                f"{HEADER_LENGTH} {header_length!r} does not fit a {len(body)}-byte body"
            )
        header, binary = body[:length], body[length:]
    try:
        request = InferRequest.model_validate_json(header)
    except ValidationError as error:
        raise _invalid_request(error) from error
    arrays = []
    position = 0
    for index, tensor in enumerate(request.inputs):
        field = f"inputs[{index}]"
        size = tensor.parameters.get(BINARY_DATA_SIZE)
        if size is None:
            if tensor.data is None:
                raise invalid(field + ".data", "is missing (and no binary_data_size is given)")
            arrays.append(array_from_json(tensor.data, tensor.datatype, tensor.shape, field))
            continue
        if not isinstance(size, int) or size < 0 or position + size > len(binary):
            raise invalid(
                f"{field}.parameters.{BINARY_DATA_SIZE}",
                f"{size!r} does not fit the {len(binary) - position} binary bytes left",
            )
        chunk = binary[position : position + size]
        position += size
        arrays.append(array_from_binary(chunk, tensor.datatype, tensor.shape, field))
    if position != len(binary):
        raise malformed(f"{len(binary) - position} binary bytes follow the last input's data")
    return DecodedRequest(request=request, arrays=arrays)


def binary_outputs(request: InferRequest, names: Sequence[str]) -> set[str]:
    """The outputs to answer in binary."""
    every = request.parameters.get(BINARY_DATA_OUTPUT) is True
    if request.outputs is None:
        return set(names) if every else set()
    return {
        output.name
        for output in request.outputs
        if output.parameters.get(BINARY_DATA, every) is True
    }


def encode_answer(
    document: dict[str, Any], outputs: Sequence[OutputTensor], binary: set[str]
) -> tuple[bytes, dict[str, str], str]:
    """The answer's body, extra headers and media type; `document` gets its `outputs`."""
    described: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for output in outputs:
        tensor: dict[str, Any] = {
            "name": output.name,
            "datatype": output.datatype,
            "shape": list(output.array.shape),
        }
        if output.name in binary:
            chunk = array_to_binary(output.array, output.datatype)
            tensor["parameters"] = {BINARY_DATA_SIZE: len(chunk)}
            chunks.append(chunk)
        else:
            tensor["data"] = array_to_json(output.array, output.datatype)
        described.append(tensor)
    header = json.dumps({**document, "outputs": described}, separators=(",", ":")).encode()
    if not chunks:
        return header, {}, JSON_MEDIA_TYPE
    return b"".join([header, *chunks]), {HEADER_LENGTH: str(len(header))}, BINARY_MEDIA_TYPE


def _invalid_request(error: ValidationError) -> Exception:
    problems = error.errors()
    if not problems:
        return invalid("body", "is invalid")
    first = problems[0]
    if first["type"] == "json_invalid":
        return malformed(f"the body is not JSON: {first['msg']}")
    location = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
    ).lstrip(".")
    return invalid(location or "body", first["msg"])
