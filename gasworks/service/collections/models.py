"""Tables of service.collections (imported by gasworks/service/models.py)."""
