"""The token fixtures live in tests/conftest.py (the integration tests use them too)."""
