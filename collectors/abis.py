"""The real ABI files (copied from the published contracts into `abi/`) and calldata built from them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from web3 import Web3

ABI_DIR = Path(__file__).resolve().parent.parent / "abi"


@cache
def load(name: str) -> list[dict[str, Any]]:
    """One ABI file by name (without .json); accepts both a bare list and {"abi": [...]}."""
    data = json.loads((ABI_DIR / f"{name}.json").read_text())
    return list(data["abi"] if isinstance(data, dict) else data)


def calldata(abi_name: str, function: str, args: list[Any]) -> str:
    """ABI-encode a call (selector + arguments) as 0x hex."""
    return str(Web3().eth.contract(abi=load(abi_name)).encode_abi(function, args=args))
