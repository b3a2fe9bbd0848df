"""IC-card writers: the interface a card reader/writer driver implements, and a file simulator."""

import importlib
import json
import os
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

from django.conf import settings


class CardWriteError(Exception):
    pass


class CardWriter(ABC):
    @abstractmethod
    def write(self, card_no: str, data: dict) -> None:
        """Write the card's content (replacing it); raise CardWriteError if the card refuses."""

    @abstractmethod
    def read(self, card_no: str) -> dict | None:
        """The card's content, or None for a blank card."""


class FileCardWriter(CardWriter):
    """One JSON file per card under var/cards/ (or PAYMENTS_CARD_DIR): the demo's card."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(
            directory or os.environ.get("PAYMENTS_CARD_DIR") or Path(settings.VAR_DIR) / "cards"
        )

    def _path(self, card_no: str) -> Path:
        if not card_no.isalnum():
            raise CardWriteError(f"bad card number {card_no!r}")
        return self.directory / f"{card_no}.json"

    def write(self, card_no: str, data: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(card_no)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1))
        os.replace(tmp, path)  # a card is never half-written

    def read(self, card_no: str) -> dict | None:
        path = self._path(card_no)
        return json.loads(path.read_text()) if path.exists() else None


def get_writer() -> CardWriter:
    """PAYMENTS_CARD_WRITER=dotted.path.Class picks a hardware driver; default the simulator."""
    dotted = os.environ.get("PAYMENTS_CARD_WRITER", "")
    if not dotted:
        return FileCardWriter()
    module, _dot, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)()
