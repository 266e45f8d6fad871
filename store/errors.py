"""Errors raised by the store; the CLI turns each into one clear line and a non-zero exit."""


class StoreError(RuntimeError):
    """Base of every store failure."""


class StoreBusy(StoreError):
    """The database file stayed locked by another process longer than the bounded wait."""


class StoreMissing(StoreError):
    """No database file yet: nothing has been collected."""


class MigrationError(StoreError):
    """A schema migration failed or the file was written by a newer ogwatch."""


class UnknownQuery(StoreError):
    """A named query that is not in the registry."""
