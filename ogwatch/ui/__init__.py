"""ogwatch/ui package."""
