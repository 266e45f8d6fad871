"""Named queries of the verification work (registered into store.queries.REGISTRY on import)."""

from __future__ import annotations
