"""`python -m aijob_gateway`: serve the gateway with uvicorn, configured from the environment.

HTTPS when `tls_cert_file` and `tls_key_file` are set (the chart mounts them from a
`kubernetes.io/tls` Secret), plain HTTP otherwise. X-Forwarded-For is believed only from
`forwarded_allow_ips`: the address it names is the one the per-client rate limit counts.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from aijob_gateway.app import create_app
from aijob_gateway.settings import GatewaySettings


def server_config(settings: GatewaySettings, app: Any, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration of the gateway `app` (`overrides`: uvicorn's own arguments)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "ssl_certfile": settings.tls_cert_file,
        "ssl_keyfile": settings.tls_key_file,
    }
    return uvicorn.Config(app, **{**options, **overrides})


def main() -> None:
    """Run the gateway until interrupted."""
    settings = GatewaySettings()
    uvicorn.Server(server_config(settings, create_app(settings))).run()


if __name__ == "__main__":
    main()
