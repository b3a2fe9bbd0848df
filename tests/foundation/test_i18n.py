"""The Chinese catalogue is complete: every string in the code is in it, translated, compiled."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

from tests.services import require

LOCALE = Path(settings.BASE_DIR) / "gasworks" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LOCALE / "django.po"


def parse_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr (msgstr[0] for plurals) of a .po file, header excluded."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    target = None
    fuzzy = False
    fuzzy_ids = []

    def flush():
        if msgid:
            entries[msgid] = msgstr or ""
            if fuzzy:
                fuzzy_ids.append(msgid)

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            flush()
            msgid, msgstr, target = _unquote(line[6:]), None, "id"
        elif line.startswith("msgid_plural"):
            target = "plural"
        elif re.match(r"msgstr(\[0\])? ", line):
            msgstr, target = _unquote(line.split(" ", 1)[1]), "str"
        elif line.startswith("msgstr["):
            target = None
        elif line.startswith('"') and target == "id":
            msgid += _unquote(line)
        elif line.startswith('"') and target == "str":
            msgstr += _unquote(line)
        elif not line.strip():
            flush()
            msgid = msgstr = target = None
            fuzzy = False
    parse_po.fuzzy = fuzzy_ids
    return entries


def _unquote(text: str) -> str:
    return text.strip()[1:-1].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def test_every_catalogue_entry_is_translated():
    entries = parse_po(PO)
    missing = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert len(entries) > 200
    assert missing == []
    assert parse_po.fuzzy == []


def test_the_compiled_catalogue_matches_the_source():
    entries = parse_po(PO)
    with open(LOCALE / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [msgid for msgid, msgstr in entries.items() if compiled.gettext(msgid) != msgstr]
    assert stale == [], "run `make messages` to recompile"


def test_no_string_in_the_code_is_missing_from_the_catalogue(tmp_path):
    require("GNU gettext (xgettext)", bool(shutil.which("xgettext")))
    copy = tmp_path / "gasworks"
    shutil.copytree(
        Path(settings.BASE_DIR) / "gasworks", copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
    )
    subprocess.run(
        [
            str(Path(settings.BASE_DIR) / ".venv" / "bin" / "django-admin"),
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": ""},
    )
    fresh = parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    committed = parse_po(PO)
    assert len(fresh) > 200  # the extraction really ran
    new = sorted(set(fresh) - set(committed))
    assert new == [], f"untranslated strings in the code (run `make messages` and translate): {new[:10]}"
