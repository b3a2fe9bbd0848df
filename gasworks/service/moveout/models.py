"""Tables of service.moveout (imported by gasworks/service/models.py)."""
