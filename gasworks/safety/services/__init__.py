"""Business rules of the safety app, one module per subject. Views, the API, commands and tasks
call these; each function runs in one transaction and raises a DomainError when it refuses.
Status moves go through the tables in gasworks.safety.models (gasworks.lib.status)."""
