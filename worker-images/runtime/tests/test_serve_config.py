"""The serve settings: file and flags, flags winning, and errors that name the field."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from aijob_worker.errors import BadInputError
from aijob_worker.serve.config import add_config_arguments, load_config


def parse(*argv: str) -> tuple[str | None, dict[str, Any]]:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    arguments = vars(parser.parse_args(argv))
    return arguments.pop("config"), arguments


def test_a_yaml_file_with_flags_over_it(tmp_path: Path) -> None:
    file = tmp_path / "serve.yaml"
    file.write_text(
        "name: iris\nmodelUri: file:///models/iris\nmaxBatchSize: 8\nmaxBatchWaitMs: 2.5\n"
    )
    config_file, flags = parse("--config", str(file), "--max-batch-size", "64", "--port", "9000")
    config = load_config(config_file, flags)
    assert (config.name, config.model_uri) == ("iris", "file:///models/iris")
    assert (config.max_batch_size, config.max_batch_wait_ms, config.port) == (64, 2.5, 9000)
    assert config.request_timeout_seconds == 30


def test_flags_alone_and_a_json_file(tmp_path: Path) -> None:
    config = load_config(*parse("--name", "m", "--model-uri", "s3://bucket/model"))
    assert config.model_uri == "s3://bucket/model"
    file = tmp_path / "serve.json"
    file.write_text(json.dumps({"name": "m", "modelUri": "file:///m", "framework": "sklearn"}))
    assert load_config(str(file), {}).framework == "sklearn"


@pytest.mark.parametrize(
    ("argv", "field", "words"),
    [
        (["--model-uri", "file:///m"], "name", "Field required"),
        (["--name", "m", "--model-uri", "http://x/m"], "modelUri", "file:// or s3://"),
        (["--name", "m", "--model-uri", "file:///m", "--max-batch-size", "0"], "maxBatchSize",
         "greater than or equal to 1"),
        (["--name", "m", "--model-uri", "file:///m", "--port", "web"], "port", "integer"),
        (["--name", "bad name", "--model-uri", "file:///m"], "name", "pattern"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_field(argv: list[str], field: str, words: str) -> None:
    with pytest.raises(BadInputError) as error:
        load_config(*parse(*argv))
    assert error.value.field == field
    assert words in error.value.problem


def test_an_unknown_key_in_the_file_is_named(tmp_path: Path) -> None:
    file = tmp_path / "serve.yaml"
    file.write_text("name: m\nmodelUri: file:///m\nmaxBatchSzie: 4\n")
    with pytest.raises(BadInputError) as error:
        load_config(str(file), {})
    assert error.value.field == "maxBatchSzie"
    assert "Extra inputs are not permitted" in error.value.problem


@pytest.mark.parametrize(
    ("content", "words"), [(None, "cannot read"), ("- a list\n", "must hold a mapping")]
)
def test_an_unusable_file_is_bad_input_on_config(
    tmp_path: Path, content: str | None, words: str
) -> None:
    file = tmp_path / "serve.yaml"
    if content is not None:
        file.write_text(content)
    with pytest.raises(BadInputError) as error:
        load_config(str(file), {})
    assert error.value.field == "--config"
    assert words in error.value.problem
