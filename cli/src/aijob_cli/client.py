"""A small HTTP client of the gateway's /v1 API; every error becomes a `GatewayProblemError`."""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from aijob_cli.config import CliConfig, ConfigError


class GatewayProblemError(Exception):
    """An error answer of the gateway (a problem document), or no answer at all."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        request_id: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.errors = errors or []
        self.request_id = request_id
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: httpx.Response) -> GatewayProblemError:
        """The problem of an error response (problem+json, or whatever else came back)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"detail": response.text.strip() or response.reason_phrase}
        detail = body.get("detail")
        return cls(
            status=response.status_code,
            title=str(body.get("title") or response.reason_phrase),
            detail=detail if isinstance(detail, str) else str(detail),
            field=body.get("field"),
            errors=[e for e in body.get("errors", []) if isinstance(e, dict)],
            request_id=body.get("requestId") or response.headers.get("x-request-id"),
            retry_after=response.headers.get("retry-after"),
        )


@dataclass(frozen=True)
class Download:
    """An artifact being downloaded: its size and recorded SHA-256 (when known), its bytes."""

    size: int | None
    sha256: str | None
    chunks: Iterator[bytes]


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class GatewayClient:
    """Calls the gateway with the configured API key."""

    def __init__(self, config: CliConfig, timeout: float = 30.0) -> None:
        # https:// is verified: against the configured CA file, else the system's CAs.
        verify: ssl.SSLContext | bool = True
        if config.ca_file is not None:
            try:
                verify = ssl.create_default_context(cafile=config.ca_file)
            except (ssl.SSLError, OSError) as error:
                raise ConfigError(
                    f"cannot use CA file {config.ca_file}: {error} (a PEM bundle is expected)"
                ) from error
        self._http = httpx.Client(
            base_url=config.url,
            headers={"Authorization": f"Bearer {config.api_key}", "User-Agent": "aijob-cli"},
            timeout=timeout,
            verify=verify,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise self._unreachable("cannot reach the gateway at", error) from error
        if response.is_error:
            raise GatewayProblemError.from_response(response)
        return response.json()

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/jobs."""
        result: dict[str, Any] = self._call("POST", "/v1/jobs", json=body)
        return result

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        """GET /v1/jobs."""
        clean = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._call("GET", "/v1/jobs", params=clean)
        return result

    def get(self, name: str) -> dict[str, Any]:
        """GET /v1/jobs/{name}."""
        result: dict[str, Any] = self._call("GET", f"/v1/jobs/{name}")
        return result

    def cancel(self, name: str) -> dict[str, Any]:
        """DELETE /v1/jobs/{name}."""
        result: dict[str, Any] = self._call("DELETE", f"/v1/jobs/{name}")
        return result

    def results(self, name: str) -> dict[str, Any]:
        """GET /v1/jobs/{name}/results."""
        result: dict[str, Any] = self._call("GET", f"/v1/jobs/{name}/results")
        return result

    def metrics(self, name: str, series: Sequence[str] = ()) -> dict[str, Any]:
        """GET /v1/jobs/{name}/metrics (only the named series, when given)."""
        params = {"series": list(series)} if series else None
        result: dict[str, Any] = self._call("GET", f"/v1/jobs/{name}/metrics", params=params)
        return result

    def logs(self, name: str, *, tail: int | None = None, follow: bool = False) -> Iterator[str]:
        """GET /v1/jobs/{name}/logs, line by line (streamed as it grows with `follow`)."""
        params: dict[str, Any] = {"follow": follow}
        if tail is not None:
            params["tail"] = tail
        # A followed log may be quiet for long: no read timeout while streaming it.
        timeout = httpx.Timeout(self._http.timeout.connect, read=None) if follow else None
        try:
            with self._http.stream(
                "GET", f"/v1/jobs/{name}/logs", params=params, timeout=timeout
            ) as response:
                if response.is_error:
                    response.read()
                    raise GatewayProblemError.from_response(response)
                yield from response.iter_lines()
        except httpx.HTTPError as error:
            raise self._unreachable("cannot read the log through", error) from error

    def artifacts(self, name: str) -> dict[str, Any]:
        """GET /v1/jobs/{name}/artifacts."""
        result: dict[str, Any] = self._call("GET", f"/v1/jobs/{name}/artifacts")
        return result

    @contextmanager
    def artifact(self, name: str, path: str) -> Iterator[Download]:
        """GET /v1/jobs/{name}/artifacts/{path}: the answer's headers and its body, streamed."""
        url = f"/v1/jobs/{name}/artifacts/{quote(path, safe='/')}"
        try:
            with self._http.stream("GET", url) as response:
                if response.is_error:
                    response.read()
                    raise GatewayProblemError.from_response(response)
                yield Download(
                    size=_int(response.headers.get("content-length")),
                    sha256=response.headers.get("x-checksum-sha256"),
                    chunks=response.iter_bytes(),
                )
        except httpx.HTTPError as error:
            raise self._unreachable("cannot download through", error) from error

    def _unreachable(self, what: str, error: httpx.HTTPError) -> GatewayProblemError:
        """The problem a transport failure becomes (503: no answer from the gateway)."""
        detail = f"{what} {self._http.base_url}: {error}"
        if "CERTIFICATE_VERIFY_FAILED" in str(error):
            detail += " (a gateway with its own CA: pass --ca-file or set AIJOB_CA_FILE)"
        return GatewayProblemError(status=503, title="Gateway unreachable", detail=detail)

    def queue_stats(self) -> dict[str, Any]:
        """GET /v1/queue/stats."""
        result: dict[str, Any] = self._call("GET", "/v1/queue/stats")
        return result

    def nodes(self) -> dict[str, Any]:
        """GET /v1/nodes."""
        result: dict[str, Any] = self._call("GET", "/v1/nodes")
        return result

    def create_endpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/endpoints."""
        result: dict[str, Any] = self._call("POST", "/v1/endpoints", json=body)
        return result

    def list_endpoints(self) -> dict[str, Any]:
        """GET /v1/endpoints."""
        result: dict[str, Any] = self._call("GET", "/v1/endpoints")
        return result

    def get_endpoint(self, name: str) -> dict[str, Any]:
        """GET /v1/endpoints/{name}."""
        result: dict[str, Any] = self._call("GET", f"/v1/endpoints/{name}")
        return result

    def delete_endpoint(self, name: str) -> dict[str, Any]:
        """DELETE /v1/endpoints/{name}."""
        result: dict[str, Any] = self._call("DELETE", f"/v1/endpoints/{name}")
        return result

    def endpoint_stats(self, name: str) -> dict[str, Any]:
        """GET /v1/endpoints/{name}/stats."""
        result: dict[str, Any] = self._call("GET", f"/v1/endpoints/{name}/stats")
        return result

    def predict(
        self, name: str, body: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """POST /v1/endpoints/{name}/infer (waiting up to `timeout` seconds, when given)."""
        waits = {} if timeout is None else {"timeout": timeout}
        result: dict[str, Any] = self._call(
            "POST", f"/v1/endpoints/{name}/infer", json=body, **waits
        )
        return result
