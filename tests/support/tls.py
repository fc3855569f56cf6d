"""A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI: the
gateway serves HTTPS with it and clients trust it as their CA file."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsPair:
    """A PEM certificate (also the CA clients trust) and its private key."""

    cert: Path
    key: Path


def self_signed_pair(directory: Path, common_name: str = "aijob-gateway") -> TlsPair:
    """A fresh P-256 key and a one-day certificate naming 127.0.0.1 and localhost."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the openssl command is needed to make a test certificate"
    pair = TlsPair(cert=directory / "tls.crt", key=directory / "tls.key")
    command = (
        f"{openssl} req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        f"-subj /CN={common_name} -addext subjectAltName=IP:127.0.0.1,DNS:localhost "
        f"-keyout {pair.key} -out {pair.cert}"
    ).split()
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return pair
