"""The model server's settings file (`aijob-worker serve --config`) and its ConfigMap.

The file is the one docs/serving.md defines (camelCase names): the endpoint's name, the
model to load, its type and the checksum its training job recorded, the port,
micro-batching, concurrency, the request timeout and the drain after SIGTERM. The pods
mount it read-only; its hash is on the pod template, so a change of model or setting
rolls out new pods.
"""

from __future__ import annotations

from typing import Any, Final

import yaml
from lightkube.resources.core_v1 import ConfigMap

from aijob_operator.builders.endpoint_meta import (
    EndpointTarget,
    child_metadata,
    config_map_name,
    stamp,
)

CONFIG_FILE: Final = "serve.yaml"
CONFIG_MOUNT_PATH: Final = "/etc/aijob/serve"
CONFIG_PATH: Final = f"{CONFIG_MOUNT_PATH}/{CONFIG_FILE}"
SERVE_PORT: Final = 8080
"""The port the model server listens on in its pod (named http)."""
DRAIN_MARGIN_SECONDS: Final = 5
"""The drain after SIGTERM waits for the longest request plus this."""
MAX_DRAIN_SECONDS: Final = 3600


def drain_seconds(target: EndpointTarget) -> int:
    """How long the server's drain may wait: long enough for a request held at SIGTERM."""
    return min(
        MAX_DRAIN_SECONDS, target.endpoint.spec.request_timeout_seconds + DRAIN_MARGIN_SECONDS
    )


def serve_config(target: EndpointTarget) -> dict[str, Any]:
    """The settings of `aijob-worker serve`, as the file spells them."""
    spec = target.endpoint.spec
    config: dict[str, Any] = {
        "name": target.name,
        "modelUri": target.model.uri,
        "host": "0.0.0.0",  # noqa: S104 - the Service and the gateway reach the pod on its IP
        "port": SERVE_PORT,
        "maxBatchSize": spec.batching.max_batch_size,
        "maxBatchWaitMs": spec.batching.max_wait_milliseconds,
        "maxConcurrency": spec.concurrency,
        "requestTimeoutSeconds": spec.request_timeout_seconds,
        "drainTimeoutSeconds": drain_seconds(target),
    }
    if target.model_type is not None:
        config["modelType"] = target.model_type
    if target.model.checksum is not None:
        # The manifest's SHA-256 its training job recorded: checked before anything loads.
        config["modelSha256"] = target.model.checksum
    return config


def render_config(target: EndpointTarget) -> str:
    """The settings file's text (YAML, keys sorted: the same settings give the same text)."""
    return yaml.safe_dump(serve_config(target), sort_keys=True)


def build_config_map(target: EndpointTarget) -> ConfigMap:
    """The ConfigMap the pods mount at `CONFIG_MOUNT_PATH`."""
    return stamp(
        ConfigMap(
            metadata=child_metadata(target, config_map_name(target.name)),
            data={CONFIG_FILE: render_config(target)},
        )
    )
