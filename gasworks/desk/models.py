"""Tables of the desk app."""
