"""Named queries of the settlement work (registered into store.queries.REGISTRY on import)."""

from __future__ import annotations
