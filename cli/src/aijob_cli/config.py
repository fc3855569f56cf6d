"""Where the CLI finds the gateway and its API key: environment first, then a config file.

`AIJOB_GATEWAY_URL` and `AIJOB_API_KEY` win; otherwise `url` and `api_key` are
read from `$AIJOB_CONFIG`, else `$XDG_CONFIG_HOME/aijob/config.toml`, else
`~/.config/aijob/config.toml`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_URL = "AIJOB_GATEWAY_URL"
ENV_KEY = "AIJOB_API_KEY"
ENV_CONFIG = "AIJOB_CONFIG"


class ConfigError(Exception):
    """The configuration is missing or unreadable; the message says what to do."""


@dataclass(frozen=True)
class CliConfig:
    """The gateway to talk to and the key to send."""

    url: str
    api_key: str


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """The config file the CLI reads."""
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aijob" / "config.toml"


def load_config(environ: Mapping[str, str] = os.environ) -> CliConfig:
    """The URL and key from the environment and the config file."""
    path = config_path(environ)
    document: dict[str, object] = {}
    if path.exists():
        try:
            document = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from error
    url = environ.get(ENV_URL) or document.get("url")
    key = environ.get(ENV_KEY) or document.get("api_key")
    if not isinstance(url, str) or not url:
        raise ConfigError(f'no gateway URL: set {ENV_URL} or `url = "..."` in {path}')
    if not isinstance(key, str) or not key:
        raise ConfigError(f'no API key: set {ENV_KEY} or `api_key = "..."` in {path}')
    return CliConfig(url=url.rstrip("/"), api_key=key)
