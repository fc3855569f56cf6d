"""Tensor data of the Open Inference Protocol: JSON `data` and the binary tensor data extension.

JSON: `data` holds the elements in row-major order, flat or nested; BYTES
elements are strings. Binary (the extension Triton and its clients use): the
tensor's raw little-endian bytes, BYTES elements each as a 4-byte little-endian
length and its bytes. Every problem is a `ServeError` (422) naming the field.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from aijob_worker.serve.errors import ServeError, invalid

DATATYPES: Final[Mapping[str, np.dtype[Any]]] = MappingProxyType(
    {
        "BOOL": np.dtype(np.bool_),
        "UINT8": np.dtype("<u1"),
        "UINT16": np.dtype("<u2"),
        "UINT32": np.dtype("<u4"),
        "UINT64": np.dtype("<u8"),
        "INT8": np.dtype("<i1"),
        "INT16": np.dtype("<i2"),
        "INT32": np.dtype("<i4"),
        "INT64": np.dtype("<i8"),
        "FP16": np.dtype("<f2"),
        "FP32": np.dtype("<f4"),
        "FP64": np.dtype("<f8"),
        "BYTES": np.dtype(np.object_),
    }
)
"""The V2 datatypes served here and their numpy types (BYTES: Python strings)."""
LENGTH_PREFIX: Final = struct.Struct("<I")


def dtype_of(datatype: str, field: str) -> np.dtype[Any]:
    """The numpy type of a V2 datatype; another datatype is invalid input on `field`."""
    dtype = DATATYPES.get(datatype)
    if dtype is None:
        raise invalid(field, f"datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
    return dtype


def element_count(shape: Sequence[int]) -> int:
    """Elements in a tensor of this shape."""
    return math.prod(shape)


def array_from_json(data: Any, datatype: str, shape: Sequence[int], field: str) -> NDArray[Any]:
    """A tensor from its JSON `data` (flat or nested), checked against datatype and shape."""
    dtype = dtype_of(datatype, field + ".datatype")
    elements = _flatten(data) if isinstance(data, list) else [data]
    if len(elements) != element_count(shape):
        raise invalid(
            field + ".data",
            f"holds {len(elements)} elements; shape {list(shape)} needs {element_count(shape)}",
        )
    _check_elements(elements, dtype, datatype, field + ".data")
    try:
        return np.array(elements, dtype=dtype).reshape(shape)
    except (OverflowError, ValueError, TypeError) as error:
        raise invalid(field + ".data", f"does not fit {datatype}: {error}") from error


def array_from_binary(raw: bytes, datatype: str, shape: Sequence[int], field: str) -> NDArray[Any]:
    """A tensor from its bytes in the binary tensor data extension."""
    dtype = dtype_of(datatype, field + ".datatype")
    count = element_count(shape)
    if datatype == "BYTES":
        return np.array(_split_bytes(raw, count, field), dtype=np.object_).reshape(shape)
    if len(raw) != count * dtype.itemsize:
        raise invalid(
            field + ".parameters.binary_data_size",
            f"is {len(raw)} bytes; {count} {datatype} elements take {count * dtype.itemsize}",
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def array_to_json(array: NDArray[Any], datatype: str) -> list[Any]:
    """The flat row-major JSON `data` of a tensor."""
    if datatype == "BYTES":
        return [_text(element) for element in array.reshape(-1)]
    flat: list[Any] = array.reshape(-1).tolist()
    return flat


def array_to_binary(array: NDArray[Any], datatype: str) -> bytes:
    """The bytes of a tensor in the binary tensor data extension."""
    if datatype == "BYTES":
        parts = []
        for element in array.reshape(-1):
            encoded = element if isinstance(element, bytes) else str(element).encode()
            parts += [LENGTH_PREFIX.pack(len(encoded)), encoded]
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=DATATYPES[datatype]).tobytes()


def _flatten(data: list[Any]) -> list[Any]:
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _check_elements(elements: list[Any], dtype: np.dtype[Any], datatype: str, field: str) -> None:
    if dtype.kind == "O":
        wrong = next((i for i, v in enumerate(elements) if not isinstance(v, str)), None)
        expected = "a string"
    elif dtype.kind == "b":
        wrong = next((i for i, v in enumerate(elements) if not isinstance(v, bool)), None)
        expected = "true or false"
    elif dtype.kind in "iu":
        wrong = next(
            (i for i, v in enumerate(elements) if isinstance(v, bool) or not isinstance(v, int)),
            None,
        )
        expected = "an integer"
    else:
        wrong = next(
            (
                i
                for i, v in enumerate(elements)
                if isinstance(v, bool) or not isinstance(v, int | float)
            ),
            None,
        )
        expected = "a number"
    if wrong is not None:
        raise invalid(
            f"{field}[{wrong}]", f"{elements[wrong]!r} is not {expected} (datatype {datatype})"
        )


def _split_bytes(raw: bytes, count: int, field: str) -> list[str]:
    elements: list[str] = []
    position = 0
    while position < len(raw):
        if position + LENGTH_PREFIX.size > len(raw):
            raise _bad_bytes(field, "ends inside an element's length")
        (length,) = LENGTH_PREFIX.unpack_from(raw, position)
        position += LENGTH_PREFIX.size
        if position + length > len(raw):
            raise _bad_bytes(field, f"element {len(elements)} runs past the end")
        try:
            elements.append(raw[position : position + length].decode())
        except UnicodeDecodeError as error:
            raise _bad_bytes(field, f"element {len(elements)} is not UTF-8: {error}") from error
        position += length
    if len(elements) != count:
        raise _bad_bytes(field, f"holds {len(elements)} elements; the shape needs {count}")
    return elements


def _bad_bytes(field: str, detail: str) -> ServeError:
    return invalid(field + ".parameters.binary_data_size", f"BYTES data {detail}")


def _text(element: Any) -> str:
    return element.decode() if isinstance(element, bytes) else str(element)
