"""Fixtures of the real-node suite: the node itself (the suite skips without one)."""

from __future__ import annotations

import socket

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Node

from tests.support.real_node import REAL_NODE_LABEL, ready_real_nodes


@pytest.fixture
def real_node(kube: Client) -> Node:
    """A Ready node labelled aijob.dev/real-node=true; skips (saying why) without one."""
    nodes = ready_real_nodes(kube)
    if not nodes:
        pytest.skip(
            f"no Ready node labelled {REAL_NODE_LABEL}=true in this cluster "
            "(the local cluster adds one with `make node-up` where the machine allows)"
        )
    return nodes[0]


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
