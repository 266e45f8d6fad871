"""Named queries of the concentration work (registered into store.queries.REGISTRY on import)."""

from __future__ import annotations
