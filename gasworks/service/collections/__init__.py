"""collections: see gasworks/service/__init__.py."""
