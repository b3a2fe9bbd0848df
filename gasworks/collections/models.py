"""Tables of the collections app."""
