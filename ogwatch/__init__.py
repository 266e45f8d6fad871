"""ogwatch package."""
