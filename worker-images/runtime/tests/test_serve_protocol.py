"""V2 tensors: JSON and binary data, records from inputs, outputs from a classifier's outputs."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest

from aijob_worker.serve.errors import ServeError
from aijob_worker.serve.protocol import (
    HEADER_LENGTH,
    binary_outputs,
    decode_request,
    encode_answer,
)
from aijob_worker.serve.signature import ModelSignature
from aijob_worker.serve.tensors import array_from_binary, array_from_json, array_to_binary
from aijob_worker.serve.v2 import output_tensors, records_from_inputs, requested_outputs

IRIS = ModelSignature(
    feature_names=("sl", "sw", "pl", "pw"), class_names=("setosa", "versicolor", "virginica")
)
TEXT = ModelSignature(class_names=("negative", "positive"))


def body(*inputs: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"inputs": list(inputs), **extra}).encode()


def feature(name: str) -> dict[str, Any]:
    return {"name": name, "datatype": "FP32", "shape": [1], "data": [1]}


def field_of(error: pytest.ExceptionInfo[ServeError]) -> tuple[int, str | None]:
    return error.value.status, error.value.field


@pytest.mark.parametrize(
    "data", [[1, 2, 3, 4, 5, 6], [[1, 2, 3], [4, 5, 6]]], ids=["flat", "nested"]
)
def test_json_data_flat_or_nested_fills_the_shape_row_major(data: list[Any]) -> None:
    array = array_from_json(data, "FP32", [2, 3], "inputs[0]")
    assert array.dtype == np.float32
    assert array.tolist() == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize(
    ("data", "datatype", "shape", "field"),
    [
        ([1, 2, 3], "FP32", [2, 2], "inputs[0].data"),
        ([1, "a"], "FP32", [2], "inputs[0].data[1]"),
        ([1.5], "INT64", [1], "inputs[0].data[0]"),
        ([1], "BYTES", [1], "inputs[0].data[0]"),
        ([1], "BF16", [1], "inputs[0].datatype"),
        ([300], "UINT8", [1], "inputs[0].data"),
        ([True, 1], "FP64", [2], "inputs[0].data[0]"),
    ],
)
def test_json_data_that_does_not_fit_names_the_field(
    data: list[Any], datatype: str, shape: list[int], field: str
) -> None:
    with pytest.raises(ServeError) as error:
        array_from_json(data, datatype, shape, "inputs[0]")
    assert field_of(error) == (422, field)


@pytest.mark.parametrize(
    ("datatype", "array"),
    [
        ("FP32", np.array([[1.5, 2.5], [3.5, 4.5]], dtype=np.float32)),
        ("INT64", np.array([1, -2, 3], dtype=np.int64)),
        ("BOOL", np.array([True, False])),
        ("BYTES", np.array(["héllo", "", "world"], dtype=np.object_)),
    ],
)
def test_binary_data_round_trips(datatype: str, array: Any) -> None:
    raw = array_to_binary(array, datatype)
    decoded = array_from_binary(raw, datatype, list(array.shape), "inputs[0]")
    assert decoded.tolist() == array.tolist()


def test_bytes_are_length_prefixed_little_endian() -> None:
    raw = array_to_binary(np.array(["ab", "c"], dtype=np.object_), "BYTES")
    assert raw == struct.pack("<I", 2) + b"ab" + struct.pack("<I", 1) + b"c"


def test_a_request_with_binary_inputs_after_its_json_header() -> None:
    features = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    raw = features.tobytes()
    header = body(
        {
            "name": "features",
            "datatype": "FP32",
            "shape": [2, 4],
            "parameters": {"binary_data_size": len(raw)},
        },
        outputs=[{"name": "prediction", "parameters": {"binary_data": True}}],
    )
    decoded = decode_request(header + raw, str(len(header)))
    assert decoded.arrays[0].tolist() == features.tolist()
    assert records_from_inputs(IRIS, decoded) == features.astype(np.float64).tolist()
    assert binary_outputs(decoded.request, ["prediction"]) == {"prediction"}


@pytest.mark.parametrize(
    ("payload", "header_length", "status", "field"),
    [
        (b"{not json", None, 400, None),
        (body(), None, 422, "inputs"),
        (body({"name": "x", "datatype": "FP32", "shape": [1]}), None, 422, "inputs[0].data"),
        (body({"name": "x", "datatype": "FP32", "shape": [-1], "data": [1]}), None, 422, None),
        (b"{}", "99", 400, None),
        (
            body(
                {
                    "name": "x",
                    "datatype": "FP32",
                    "shape": [1],
                    "parameters": {"binary_data_size": 8},
                }
            ),
            "0",
            422,
            "inputs[0].parameters.binary_data_size",
        ),
    ],
    ids=["not json", "no inputs", "no data", "negative shape", "header too long", "no binary"],
)
def test_malformed_requests(
    payload: bytes, header_length: str | None, status: int, field: str | None
) -> None:
    if header_length == "0":
        header_length = str(len(payload))
        payload += b"\0" * 4
    with pytest.raises(ServeError) as error:
        decode_request(payload, header_length)
    assert error.value.status == status
    if field is not None:
        assert error.value.field == field


def test_one_input_per_named_feature_makes_rows_in_training_order() -> None:
    inputs = [
        {"name": name, "datatype": "FP64", "shape": [2], "data": [index, index + 0.5]}
        for index, name in enumerate(("pw", "pl", "sw", "sl"))
    ]
    decoded = decode_request(body(*inputs), None)
    assert records_from_inputs(IRIS, decoded) == [[3, 2, 1, 0], [3.5, 2.5, 1.5, 0.5]]


@pytest.mark.parametrize(
    ("inputs", "field", "words"),
    [
        ([{"name": "features", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}],
         "inputs[0].shape", "[batch, 4]"),
        ([{"name": "features", "datatype": "BYTES", "shape": [1, 4], "data": ["a"] * 4}],
         "inputs[0].datatype", "numbers"),
        ([feature(name) for name in ("sl", "sw", "pl")],
         "inputs", "missing feature input(s) pw"),
        ([feature(name) for name in ("sl", "sw", "pl", "x")],
         "inputs[3].name", "not a feature"),
    ],
    ids=["narrow rows", "text for numbers", "a feature missing", "an unknown feature"],
)  # fmt: skip
def test_inputs_that_do_not_fit_a_tabular_model_name_the_field(
    inputs: list[dict[str, Any]], field: str, words: str
) -> None:
    with pytest.raises(ServeError) as error:
        records_from_inputs(IRIS, decode_request(body(*inputs), None))
    assert field_of(error) == (422, field)
    assert words in error.value.detail


def test_a_text_model_takes_one_bytes_input() -> None:
    decoded = decode_request(
        body({"name": "text", "datatype": "BYTES", "shape": [2, 1], "data": ["good", "bad"]}),
        None,
    )
    assert records_from_inputs(TEXT, decoded) == ["good", "bad"]
    with pytest.raises(ServeError) as error:
        records_from_inputs(
            TEXT,
            decode_request(
                body({"name": "t", "datatype": "FP32", "shape": [1], "data": [1]}), None
            ),
        )
    assert field_of(error) == (422, "inputs[0].datatype")


def test_classifier_outputs_become_three_tensors() -> None:
    outputs = [
        {
            "prediction": "setosa",
            "confidence": 0.9,
            "probabilities": {"setosa": 0.9, "versicolor": 0.07, "virginica": 0.03},
        },
        {
            "prediction": "virginica",
            "confidence": 0.8,
            "probabilities": {"setosa": 0.0, "versicolor": 0.2, "virginica": 0.8},
        },
    ]
    decoded = decode_request(
        body({"name": "features", "datatype": "FP32", "shape": [2, 4], "data": [0] * 8}), None
    )
    names = requested_outputs(IRIS, decoded.request)
    tensors = output_tensors(IRIS, outputs, names)
    assert [(t.name, t.datatype, list(t.array.shape)) for t in tensors] == [
        ("prediction", "BYTES", [2]),
        ("confidence", "FP64", [2]),
        ("probabilities", "FP64", [2, 3]),
    ]
    content, headers, media_type = encode_answer({"model_name": "iris"}, tensors, set())
    answer = json.loads(content)
    assert (headers, media_type) == ({}, "application/json")
    assert answer["outputs"][0]["data"] == ["setosa", "virginica"]
    assert answer["outputs"][2]["data"] == [0.9, 0.07, 0.03, 0.0, 0.2, 0.8]


def test_binary_outputs_follow_the_json_header() -> None:
    decoded = decode_request(
        body(
            {"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [0] * 4},
            parameters={"binary_data_output": True},
        ),
        None,
    )
    outputs = [{"prediction": "setosa", "confidence": 0.5, "probabilities": dict.fromkeys(
        IRIS.class_names, 0.5)}]  # fmt: skip
    names = requested_outputs(IRIS, decoded.request)
    tensors = output_tensors(IRIS, outputs, names)
    content, headers, media_type = encode_answer(
        {"model_name": "iris"}, tensors, binary_outputs(decoded.request, names)
    )
    length = int(headers[HEADER_LENGTH])
    header = json.loads(content[:length])
    sizes = [output["parameters"]["binary_data_size"] for output in header["outputs"]]
    assert media_type == "application/octet-stream"
    assert sizes == [4 + len("setosa"), 8, 24]
    assert len(content) == length + sum(sizes)
    assert np.frombuffer(content[length + 10 : length + 18], dtype="<f8").tolist() == [0.5]


def test_asking_for_an_unknown_output_names_it() -> None:
    decoded = decode_request(
        body(
            {"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [0] * 4},
            outputs=[{"name": "prediction"}, {"name": "logits"}],
        ),
        None,
    )
    with pytest.raises(ServeError) as error:
        requested_outputs(IRIS, decoded.request)
    assert field_of(error) == (422, "outputs[1].name")
