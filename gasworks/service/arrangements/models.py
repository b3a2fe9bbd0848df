"""Tables of service.arrangements (imported by gasworks/service/models.py)."""
