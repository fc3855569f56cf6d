"""Where the CLI finds the gateway and its API key, and how it may reach it.

`AIJOB_GATEWAY_URL` and `AIJOB_API_KEY` win; otherwise `url` and `api_key` are
read from `$AIJOB_CONFIG`, else `$XDG_CONFIG_HOME/aijob/config.toml`, else
`~/.config/aijob/config.toml`.

The key travels in a header of every request, so the CLI refuses to send it over plain
`http://` to anything but this machine (a loopback address or `localhost`, as a
`kubectl port-forward` gives): on any other host, anyone on the network path could
read it. `--insecure` (or `AIJOB_INSECURE=1`, or `insecure = true` in the file) allows
it for a network the user trusts. `https://` is verified against the system's CAs, or
against `--ca-file` (`AIJOB_CA_FILE`, `ca_file`) for a gateway with its own CA.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ENV_URL = "AIJOB_GATEWAY_URL"
ENV_KEY = "AIJOB_API_KEY"
ENV_CONFIG = "AIJOB_CONFIG"
ENV_INSECURE = "AIJOB_INSECURE"
ENV_CA_FILE = "AIJOB_CA_FILE"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class ConfigError(Exception):
    """The configuration is missing, unreadable or unsafe; the message says what to do."""


@dataclass(frozen=True)
class CliConfig:
    """The gateway to talk to, the key to send, and how to trust the connection."""

    url: str
    api_key: str
    ca_file: Path | None = None
    insecure: bool = False


@dataclass(frozen=True)
class Overrides:
    """What the command line says, over the environment and the file."""

    insecure: bool = False
    ca_file: Path | None = None


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """The config file the CLI reads."""
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aijob" / "config.toml"


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: localhost, 127.0.0.0/8 or ::1."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_url(url: str, insecure: bool) -> str:
    """`url` without its trailing slash, if the key may be sent to it; ConfigError if not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"gateway URL {url!r} is not an http:// or https:// URL with a host")
    if parts.scheme == "http" and not insecure and not is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing to send the API key over plain http to {parts.hostname}: anyone on the "
            "network path could read it. Use the gateway's https:// URL (chart value "
            "gateway.tls.secretName), or reach it through `kubectl port-forward` on "
            f"localhost; on a network you trust, pass --insecure (or {ENV_INSECURE}=1)"
        )
    return url.rstrip("/")


def _flag(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{where}: {value!r} is not a yes/no value (use 1 or 0, true or false)")


def load_config(
    environ: Mapping[str, str] = os.environ, overrides: Overrides | None = None
) -> CliConfig:
    """The URL, key and trust settings from the command line, environment and config file."""
    overrides = overrides or Overrides()
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
    insecure = overrides.insecure
    if not insecure and environ.get(ENV_INSECURE) is not None:
        insecure = _flag(environ[ENV_INSECURE], ENV_INSECURE)
    elif not insecure and "insecure" in document:
        insecure = _flag(document["insecure"], f"insecure in {path}")
    named = overrides.ca_file or environ.get(ENV_CA_FILE) or document.get("ca_file")
    ca_file = Path(str(named)).expanduser() if named else None
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"CA file {ca_file} does not exist (--ca-file, {ENV_CA_FILE})")
    return CliConfig(url=check_url(url, insecure), api_key=key, ca_file=ca_file, insecure=insecure)
