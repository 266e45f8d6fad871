"""`ogwatch alerts`: placeholder until its issue lands."""

from __future__ import annotations

import argparse

from ogwatch.config import Config
from ogwatch.errors import OgwatchError


def add_arguments(sp: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    sp.add_argument("--json", action="store_true", help="print JSON")


def main(cfg: Config, args: argparse.Namespace) -> int:
    """Not built yet."""
    raise OgwatchError("ogwatch alerts: not built yet")
