"""Tables of the arrangements app."""
