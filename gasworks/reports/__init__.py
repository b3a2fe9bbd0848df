"""The dashboard and its figures. Reads every app; no app reads reports."""
