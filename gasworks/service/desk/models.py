"""Tables of service.desk (imported by gasworks/service/models.py)."""
