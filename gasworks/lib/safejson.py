"""JSON from outside (API bodies, device messages, gateway notifications), parsed without a 500.

``json.loads`` answers a deeply nested document (50,000 ``[``) with RecursionError, which is not
a ValueError and so slipped past every ``except ValueError`` into a server error. Here it is a
ValueError like any other malformed JSON, so callers keep one ``except ValueError``.
"""

import json


class TooDeep(ValueError):
    """The document nests deeper than the parser can follow."""


def loads(data: str | bytes | bytearray, **kwargs):
    """``json.loads`` whose only failures are ValueError (UnicodeDecodeError is one)."""
    try:
        return json.loads(data, **kwargs)
    except RecursionError:
        raise TooDeep("JSON nested too deeply") from None
