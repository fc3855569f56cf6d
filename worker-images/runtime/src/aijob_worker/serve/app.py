"""The model server's routes: Open Inference Protocol (V2), a JSON predict route, metrics.

| Route | Answer |
|---|---|
| `GET /v2/health/live` | 200 while the process runs |
| `GET /v2/health/ready` | 200 once the model is loaded, 503 while loading or draining |
| `GET /v2` | server metadata |
| `GET /v2/models/{name}` | model metadata: inputs, outputs (see `signature`) |
| `GET /v2/models/{name}/ready` | 200 or 503, as readiness |
| `POST /v2/models/{name}/infer` | V2 inference, JSON or binary tensors |
| `POST /v1/models/{name}/predict` | `{"records": [...]}` in, outputs and timings out |
| `GET /metrics` | Prometheus metrics |
| `GET,PUT,DELETE /admin/faults` | failure injection, only when enabled (see `faults`) |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aijob_worker import __version__
from aijob_worker.errors import BadInputError, bad_input_from_validation
from aijob_worker.serve.batcher import Answer, MicroBatcher
from aijob_worker.serve.config import ServeConfig
from aijob_worker.serve.errors import (
    ServeError,
    invalid,
    model_not_found,
    relabel_record_field,
    timed_out,
    unavailable,
)
from aijob_worker.serve.faults import FAULT_HEADER, FaultInjector, FaultRule
from aijob_worker.serve.http import (
    Handler,
    counted,
    json_body,
    json_response,
    problem_response,
    read_body,
)
from aijob_worker.serve.lifecycle import Lifecycle
from aijob_worker.serve.metrics import ServeMetrics
from aijob_worker.serve.model import BatchExecutor, ServedModel
from aijob_worker.serve.protocol import HEADER_LENGTH, binary_outputs, decode_request, encode_answer
from aijob_worker.serve.v2 import (
    V2_RECORD_PREFIX,
    output_tensors,
    records_from_inputs,
    requested_outputs,
)

JSON_RECORD_PREFIX = "records"
SERVER_NAME = "aijob-worker"
EXTENSIONS = ("binary_tensor_data", "aijob_json_predict")


class PredictRequest(BaseModel):
    """The JSON route's body: records as inference AIJobs take them."""

    model_config = ConfigDict(extra="forbid")

    records: Annotated[list[Any], Field(min_length=1)]


@dataclass
class ServeState:
    """Everything the routes share; `model` and `batcher` are set once the model is loaded."""

    config: ServeConfig
    metrics: ServeMetrics
    lifecycle: Lifecycle
    faults: FaultInjector
    model: ServedModel | None = None
    batcher: MicroBatcher | None = None

    def attach(self, model: ServedModel) -> None:
        """Serve the loaded model (call in the event loop): batching starts, readiness turns on."""
        self.model = model
        self.batcher = MicroBatcher(
            BatchExecutor(model.runner, self.config.max_batch_size),
            max_batch_size=self.config.max_batch_size,
            max_wait_seconds=self.config.max_batch_wait_ms / 1000,
            observer=self.metrics,
        )
        self.batcher.start()
        self.metrics.model_info.labels(
            model=model.name,
            model_type=model.loaded.manifest.model_type,
            framework=model.runner.framework,
            checksum=model.checksum,
        ).set(1)
        self.lifecycle.model_loaded()


class ServeRoutes:
    """The route handlers over one `ServeState`."""

    def __init__(self, state: ServeState) -> None:
        self.state = state

    async def live(self, _request: Request) -> Response:
        """Liveness: the process answers."""
        return json_response({"live": True})

    async def ready(self, _request: Request) -> Response:
        """Readiness: the model is loaded and no drain has begun."""
        if not self.state.lifecycle.ready:
            raise unavailable(f"the model is {self.state.lifecycle.phase.value}")
        return json_response({"ready": True})

    async def server_metadata(self, _request: Request) -> Response:
        """V2 server metadata."""
        return json_response(
            {"name": SERVER_NAME, "version": __version__, "extensions": list(EXTENSIONS)}
        )

    async def model_metadata(self, request: Request) -> Response:
        """V2 model metadata (once loaded)."""
        return json_response(self._model(request).metadata())

    async def model_ready(self, request: Request) -> Response:
        """V2 model readiness."""
        self._check_name(request)
        return await self.ready(request)

    async def v2_infer(self, request: Request) -> Response:
        """V2 inference."""
        model = self._model(request)
        with self.state.lifecycle.admitted():
            await self._inject_fault(request)
            body = await read_body(request, self.state.config.max_request_bytes)
            decoded = decode_request(body, request.headers.get(HEADER_LENGTH))
            names = requested_outputs(model.signature, decoded.request)
            records = records_from_inputs(model.signature, decoded)
            if not records:
                raise invalid("inputs", "hold no records (a batch of 0)")
            answer = await self._predict(records, V2_RECORD_PREFIX)
            document: dict[str, Any] = {"model_name": model.name}
            if decoded.request.id is not None:
                document["id"] = decoded.request.id
            document["parameters"] = answer.timings.as_dict()
            tensors = output_tensors(model.signature, answer.outputs, names)
            content, headers, media_type = encode_answer(
                document, tensors, binary_outputs(decoded.request, names)
            )
        return Response(content, media_type=media_type, headers=headers)

    async def v1_predict(self, request: Request) -> Response:
        """The JSON route: records in, outputs out, as inference AIJobs."""
        model = self._model(request)
        with self.state.lifecycle.admitted():
            await self._inject_fault(request)
            body = await read_body(request, self.state.config.max_request_bytes)
            try:
                predict = PredictRequest.model_validate(json_body(body))
            except ValidationError as error:
                bad = bad_input_from_validation("", error.errors())
                raise invalid(bad.field or "body", bad.problem) from error
            answer = await self._predict(predict.records, JSON_RECORD_PREFIX)
        return json_response(
            {
                "modelName": model.name,
                "modelChecksum": model.checksum,
                "outputs": answer.outputs,
                "timings": answer.timings.as_dict(),
            }
        )

    async def metrics(self, _request: Request) -> Response:
        """Prometheus exposition."""
        content, media_type = self.state.metrics.render()
        return Response(content, media_type=media_type)

    async def faults(self, request: Request) -> Response:
        """GET the fault rule, PUT a new one, DELETE it."""
        injector = self.state.faults
        if request.method == "PUT":
            body = await read_body(request, self.state.config.max_request_bytes)
            try:
                injector.set_rule(FaultRule.model_validate(json_body(body)))
            except ValidationError as error:
                bad = bad_input_from_validation("", error.errors())
                raise invalid(bad.field or "body", bad.problem) from error
        elif request.method == "DELETE":
            injector.clear()
        return json_response(injector.state())

    def _check_name(self, request: Request) -> None:
        name = str(request.path_params["name"])
        if name != self.state.config.name:
            raise model_not_found(name, self.state.config.name)

    def _model(self, request: Request) -> ServedModel:
        self._check_name(request)
        if self.state.model is None:
            raise unavailable(f"the model is {self.state.lifecycle.phase.value}")
        return self.state.model

    async def _inject_fault(self, request: Request) -> None:
        fault = self.state.faults.next_fault(request.headers.get(FAULT_HEADER))
        if fault is not None:
            await self.state.faults.inject(fault)

    async def _predict(self, records: list[Any], prefix: str) -> Answer:
        assert self.state.batcher is not None  # set with the model
        timeout = self.state.config.request_timeout_seconds
        try:
            answer = await self.state.batcher.submit(records, time_limit=timeout)
        except BadInputError as error:
            raise invalid(relabel_record_field(error.field, prefix), error.problem) from error
        except TimeoutError as error:
            raise timed_out(timeout) from error
        self.state.metrics.queued_for(answer.timings.queue_ms)
        return answer


def create_app(state: ServeState) -> Starlette:
    """The ASGI app over `state` (the admin routes only when failure injection is on)."""
    routes = ServeRoutes(state)
    table: list[tuple[str, Handler, list[str]]] = [
        ("/v2/health/live", routes.live, ["GET"]),
        ("/v2/health/ready", routes.ready, ["GET"]),
        ("/v2", routes.server_metadata, ["GET"]),
        ("/v2/models/{name}", routes.model_metadata, ["GET"]),
        ("/v2/models/{name}/ready", routes.model_ready, ["GET"]),
        ("/v2/models/{name}/infer", routes.v2_infer, ["POST"]),
        ("/v1/models/{name}/predict", routes.v1_predict, ["POST"]),
        ("/metrics", routes.metrics, ["GET"]),
    ]
    if state.faults.enabled:
        table.append(("/admin/faults", routes.faults, ["GET", "PUT", "DELETE"]))
    return Starlette(
        routes=[
            Route(path, counted(path, state.metrics, handler), methods=methods)
            for path, handler, methods in table
        ],
        exception_handlers={HTTPException: _http_problem},
    )


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "bad-request")
    error = ServeError(
        exc.status_code, slug, str(exc.detail), f"{request.method} {request.url.path}"
    )
    return problem_response(error, request.url.path)
