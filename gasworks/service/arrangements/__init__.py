"""arrangements: see gasworks/service/__init__.py."""
