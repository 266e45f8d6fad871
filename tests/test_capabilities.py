"""Capability detection against anvil directly and through the proxy's capability filter."""

from __future__ import annotations

import pytest

from collectors import capabilities
from collectors.pool import RpcPool
from devnet.faultproxy import FaultProxy, Faults

pytestmark = pytest.mark.devnet


def test_full_node(devnet_world) -> None:
    ch = devnet_world.chains["alpha"]
    head = int(ch.head()["number"], 16)
    caps = capabilities.detect(RpcPool([ch.url]), head)
    assert caps["traces"] is True and caps["debug_trace"] is True
    assert caps["state_depth"] is None  # the restored devnet keeps every historical state
    assert caps["max_batch"] == 100


def test_filtered_node(devnet_world) -> None:
    ch = devnet_world.chains["alpha"]
    head = int(ch.head()["number"], 16)
    with FaultProxy(ch.url, Faults(hide_traces=True, state_window=7, max_batch=50)) as proxy:
        caps = capabilities.detect(RpcPool([proxy.url], max_retries=0), head)
    assert caps["traces"] is False and caps["debug_trace"] is False
    assert caps["state_depth"] == 7
    assert caps["max_batch"] == 50
