"""Named queries of the alerts work (registered into store.queries.REGISTRY on import)."""

from __future__ import annotations
