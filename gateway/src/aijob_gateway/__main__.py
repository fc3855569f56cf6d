"""`python -m aijob_gateway`: serve the gateway with uvicorn, configured from the environment."""

from __future__ import annotations

import uvicorn

from aijob_gateway.app import create_app
from aijob_gateway.settings import GatewaySettings


def main() -> None:
    """Run the gateway until interrupted."""
    settings = GatewaySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
