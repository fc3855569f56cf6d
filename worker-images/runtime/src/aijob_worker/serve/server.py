"""`aijob-worker serve`: listen at once, load the model once, answer until SIGTERM, drain, exit.

Start: the server listens first (liveness answers, readiness 503) while the
model loads on a daemon thread and runs one made-up record (the framework's
lazy initialisation is paid before readiness, not by the first request); then
readiness turns on. A model that cannot
be loaded ends the process with the reason on stderr and in the termination
message: exit 65 when it is bad input (no model there, a checksum that does not
match, a model type or framework other than the config says), 1 otherwise.

Stop (SIGTERM or SIGINT): readiness turns off and new inference requests get
503 at once; the requests held (queued or running) are answered; then the
server closes and the process exits 0. The drain waits at most
`drainTimeoutSeconds`; a second signal ends it at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Mapping
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from aijob_worker.errors import BadInputError, WorkerError
from aijob_worker.runners import RunnerRegistry
from aijob_worker.serve.app import ServeState, create_app
from aijob_worker.serve.config import ServeConfig, load_config
from aijob_worker.serve.faults import FaultInjector, fault_injection_enabled
from aijob_worker.serve.lifecycle import Lifecycle, Phase
from aijob_worker.serve.metrics import ServeMetrics
from aijob_worker.serve.model import ServedModel, load_served_model, warm_up
from aijob_worker.termination import write_termination_message

logger = logging.getLogger(__name__)

EXIT_SERVED = 0
EXIT_LOAD_FAILED = WorkerError.exit_code
SHUTDOWN_GRACE_SECONDS = 5
"""How long uvicorn waits for connections after the drain (responses are already sent)."""


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: SIGTERM starts the drain instead."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ModelServer:
    """One model served over HTTP until it is told to stop."""

    def __init__(
        self,
        config: ServeConfig,
        *,
        registry: RunnerRegistry | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.env = dict(os.environ if env is None else env)
        self.registry = registry
        metrics = ServeMetrics()
        self.state = ServeState(
            config=config,
            metrics=metrics,
            lifecycle=Lifecycle(config.max_concurrency, metrics),
            faults=FaultInjector(enabled=fault_injection_enabled(self.env), metrics=metrics),
        )
        self.server = _Uvicorn(
            uvicorn.Config(
                create_app(self.state),
                host=config.host,
                port=config.port,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            )
        )
        self.exit_code = EXIT_SERVED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    @property
    def port(self) -> int | None:
        """The port listened on (once started; useful with port 0)."""
        if not self.server.started:
            return None
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    def run(self) -> int:
        """Serve until stopped (blocking); the exit code."""
        with asyncio.Runner(loop_factory=self.server.config.get_loop_factory()) as runner:
            return runner.run(self.serve())

    async def serve(self) -> int:
        """Serve in the running loop until stopped; the exit code."""
        self._loop = asyncio.get_running_loop()
        self._install_signal_handlers()
        with tempfile.TemporaryDirectory(prefix="aijob-serve-") as work_dir:
            self._start_loading(Path(work_dir))
            try:
                await self.server.serve()
            finally:
                if self.state.batcher is not None:
                    await self.state.batcher.close()
        logger.info("stopped", extra={"event": "stopped", "exit_code": self.exit_code})
        return self.exit_code

    def request_stop(self, reason: str = "request") -> None:
        """Begin the drain (from the loop's thread); a second request stops at once."""
        if self._loop is None:
            return
        if not self.state.lifecycle.begin_drain():
            logger.warning("stop requested again: stopping now", extra={"event": "force-stop"})
            self.server.force_exit = self.server.should_exit = True
            return
        held = self.state.lifecycle.in_flight
        logger.info("draining", extra={"event": "draining", "reason": reason, "held": held})
        self._drain = self._loop.create_task(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        timeout = self.config.drain_timeout_seconds
        if await self.state.lifecycle.wait_idle(timeout):
            logger.info("drained", extra={"event": "drained"})
        else:
            held = self.state.lifecycle.in_flight
            logger.warning(
                "drain timed out", extra={"event": "drain-timeout", "held": held, "after": timeout}
            )
        self.server.should_exit = True

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # a server run in a thread (tests) is stopped with request_stop
        assert self._loop is not None
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._loop.add_signal_handler(signum, self.request_stop, signal.Signals(signum).name)

    def _start_loading(self, work_dir: Path) -> None:
        loop = self._loop
        assert loop is not None
        registry = self.registry

        def load() -> None:
            started = time.perf_counter()
            try:
                model = load_served_model(
                    self.config, registry or RunnerRegistry.from_entry_points(), work_dir
                )
            except Exception as error:
                _call_in(loop, self._load_failed, error)
                return
            warm_up_ms = warm_up(model)
            _call_in(loop, self._loaded, model, time.perf_counter() - started, warm_up_ms)

        threading.Thread(target=load, name="aijob-model-load", daemon=True).start()

    def _loaded(self, model: ServedModel, seconds: float, warm_up_ms: float | None) -> None:
        if self.state.lifecycle.phase is not Phase.LOADING:
            return  # a stop arrived while loading
        self.state.attach(model)
        logger.info(
            "serving",
            extra={
                "event": "ready",
                "model": model.name,
                "model_type": model.loaded.manifest.model_type,
                "model_uri": model.model_uri,
                "checksum": model.checksum,
                "device": model.runner.device(),
                "load_seconds": round(seconds, 3),
                "warm_up_ms": None if warm_up_ms is None else round(warm_up_ms, 1),
                "port": self.port,
            },
        )

    def _load_failed(self, error: Exception) -> None:
        if isinstance(error, BadInputError):
            self.exit_code, message = error.exit_code, f"bad input: {error}"
        else:
            logger.error("model load failed", exc_info=error)
            self.exit_code, message = EXIT_LOAD_FAILED, f"{type(error).__name__}: {error}"
        self.state.lifecycle.load_failed()
        logger.error(message, extra={"event": "failed", "exit_code": self.exit_code})
        write_termination_message(message, self.env)
        self.server.should_exit = True


def _call_in(
    loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *arguments: object
) -> None:
    """Run `callback(*arguments)` in the loop's thread (nothing if the loop is gone)."""
    with contextlib.suppress(RuntimeError):  # the loop closed: the process is exiting
        loop.call_soon_threadsafe(callback, *arguments)


def serve_command(arguments: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`aijob-worker serve`: the config from the file and flags, then serve; the exit code."""
    try:
        config = load_config(arguments.config, vars(arguments))
    except BadInputError as error:
        write_termination_message(f"bad input: {error}", env)
        return error.exit_code
    return ModelServer(config, env=env).run()
