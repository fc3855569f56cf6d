"""The CLI's configuration: where the URL and key come from, and the refusal to send the key
over plain http to a host that is not this machine unless told to."""

from __future__ import annotations

from pathlib import Path

import pytest
from aijob_cli.client import GatewayClient
from aijob_cli.config import (
    CliConfig,
    ConfigError,
    Overrides,
    check_url,
    is_loopback,
    load_config,
)

KEY = "aij_000000000000_" + "A" * 43


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("gateway.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("192.168.1.20", False),
        ("aijob-gateway.aijob-system", False),
        ("localhost.example.com", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18000/",
        "http://localhost:8000",
        "http://[::1]:8000",
        "https://gateway.example.com",
        "https://10.0.0.7:8443/",
    ],
)
def test_urls_the_key_may_go_to(url: str) -> None:
    assert check_url(url, insecure=False) == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["http://10.0.0.7:8000", "http://gateway.example.com", "http://aijob-gateway"]
)
def test_plain_http_elsewhere_is_refused_unless_insecure(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_url(url, insecure=False)
    message = str(refused.value)
    assert "refusing to send the API key over plain http" in message
    assert "--insecure" in message
    assert "AIJOB_INSECURE=1" in message
    assert check_url(url, insecure=True) == url


@pytest.mark.parametrize("url", ["ftp://gateway", "gateway:8000", "https://", "/v1/jobs"])
def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="not an http:// or https:// URL"):
        check_url(url, insecure=True)


def environ(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path), "AIJOB_API_KEY": KEY, **values}


@pytest.mark.parametrize(
    ("flag", "env", "file", "allowed"),
    [
        (False, None, None, False),
        (True, None, None, True),
        (False, "1", None, True),
        (False, "true", None, True),
        (False, "0", None, False),
        (False, None, "true", True),
        (False, None, "false", False),
        (True, "0", None, True),  # the command line wins
        (False, "0", "true", False),  # the environment wins over the file
    ],
)
def test_insecure_from_the_command_line_environment_or_file(
    tmp_path: Path, flag: bool, env: str | None, file: str | None, allowed: bool
) -> None:
    values = {"AIJOB_GATEWAY_URL": "http://10.0.0.7:8000"}
    if env is not None:
        values["AIJOB_INSECURE"] = env
    if file is not None:
        (tmp_path / "aijob").mkdir()
        (tmp_path / "aijob" / "config.toml").write_text(f"insecure = {file}\n")
    overrides = Overrides(insecure=flag)
    if allowed:
        assert load_config(environ(tmp_path, **values), overrides).insecure
    else:
        with pytest.raises(ConfigError, match="plain http"):
            load_config(environ(tmp_path, **values), overrides)


def test_a_bad_insecure_value_names_where_it_came_from(tmp_path: Path) -> None:
    values = environ(tmp_path, AIJOB_GATEWAY_URL="https://g", AIJOB_INSECURE="maybe")
    with pytest.raises(ConfigError, match="AIJOB_INSECURE: 'maybe' is not a yes/no value"):
        load_config(values)


def test_a_ca_file_from_the_command_line_environment_or_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    https = environ(tmp_path, AIJOB_GATEWAY_URL="https://gateway.example.com")
    assert load_config(https).ca_file is None
    assert load_config(https, Overrides(ca_file=ca)).ca_file == ca
    assert load_config({**https, "AIJOB_CA_FILE": str(ca)}).ca_file == ca
    (tmp_path / "aijob").mkdir()
    (tmp_path / "aijob" / "config.toml").write_text(f'ca_file = "{ca}"\n')
    assert load_config(https).ca_file == ca
    with pytest.raises(ConfigError, match=r"CA file .*missing\.pem does not exist"):
        load_config(https, Overrides(ca_file=tmp_path / "missing.pem"))


def test_a_ca_file_that_is_not_pem_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    config = CliConfig(url="https://gateway.example.com", api_key=KEY, ca_file=bogus)
    with pytest.raises(ConfigError, match=r"cannot use CA file .*ca\.pem.*PEM bundle"):
        GatewayClient(config)
