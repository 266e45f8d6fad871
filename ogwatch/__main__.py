"""`python -m ogwatch` runs the CLI."""

from ogwatch.cli import _run

_run()
