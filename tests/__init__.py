"""ogwatch tests."""
