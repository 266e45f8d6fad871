"""Child-process programs used by the multi-process tests."""
