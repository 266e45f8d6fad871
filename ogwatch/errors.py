"""ogwatch's error hierarchy: every failure a user can cause or meet carries one clear line.

A scheduled job logs an `OgwatchError` and survives; the CLI prints it and exits non-zero.
"""

from __future__ import annotations


class OgwatchError(RuntimeError):
    """Base of every expected failure; `exit_code` is what the CLI returns."""

    exit_code = 1


class ConfigError(OgwatchError):
    """The configuration is invalid; `problems` holds one line per problem."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class CheckFailed(OgwatchError):
    """A live check of the configuration against the networks failed."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))
