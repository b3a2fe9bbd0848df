"""Meters, readings with their validation (VEE), consumption and correction, device keys, HTTP
batch and MQTT ingest, file import, reading routes and tamper alerts. Set-based SQL lives in
store.py. Publishes ReadingsStored and ReadingsFlagged."""
