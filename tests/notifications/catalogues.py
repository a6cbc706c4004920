"""What the translation tests read: the entries of a gettext catalogue (.po) and the message
templates of a language."""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
MESSAGE_TEMPLATES = ROOT / "templates" / "notifications"
CHANNELS = ("sms", "email")


@dataclass(frozen=True)
class Entry:
    context: str
    msgid: str
    plural: str
    translations: tuple[str, ...]
    fuzzy: bool

    @property
    def key(self) -> str:
        return f"{self.context} | {self.msgid}" if self.context else self.msgid

    @property
    def translated(self) -> bool:
        return bool(self.translations) and all(self.translations)


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def translated_languages() -> list[str]:
    """The languages read from a catalogue: all but English, the language of the source."""
    return [code for code in languages() if code != "en"]


def catalogue(code: str, root: Path = ROOT) -> Path:
    return root / "locale" / code / "LC_MESSAGES" / "django.po"


def entries(path: Path) -> list[Entry]:
    """The live entries of a .po file (not its header, nor those makemessages marked obsolete)."""
    found = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        lines = [line for line in block.splitlines() if line.strip()]
        if any(line.startswith("#~") for line in lines):
            continue
        fields: dict[str, str] = {}
        current = None
        flags = ""
        for line in lines:
            if line.startswith("#,"):
                flags += line
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
            else:
                current, _space, value = line.partition(" ")
                fields[current] = ast.literal_eval(value)
        if not fields.get("msgid"):
            continue  # the header
        translations = tuple(
            value for name, value in sorted(fields.items()) if name.startswith("msgstr")
        )
        found.append(
            Entry(
                context=fields.get("msgctxt", ""),
                msgid=fields["msgid"],
                plural=fields.get("msgid_plural", ""),
                translations=translations,
                fuzzy="fuzzy" in flags,
            )
        )
    return found


def message_templates(code: str) -> list[Path]:
    """Every message template of a language: SMS, email, and the calendar file's text."""
    found = [
        path for channel in CHANNELS for path in (MESSAGE_TEMPLATES / channel / code).glob("*.txt")
    ]
    ics = MESSAGE_TEMPLATES / "ics" / f"{code}.txt"
    return sorted(found + ([ics] if ics.exists() else []))
