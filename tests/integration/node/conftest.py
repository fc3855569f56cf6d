"""Fixtures of the real-node suite (the node itself, `real_node`, is shared by every
integration suite: tests/integration/conftest.py)."""

from __future__ import annotations

import socket

import pytest
from lightkube.resources.core_v1 import Node


@pytest.fixture
def node_is_this_host(real_node: Node) -> bool:
    """Whether the real node runs on this machine (its InternalIP is one of ours)."""
    addresses = (real_node.status.addresses if real_node.status else None) or []
    for address in addresses:
        if address.type != "InternalIP":
            continue
        try:
            with socket.socket() as probe:
                probe.bind((address.address, 0))
        except OSError:
            continue
        return True
    return False
