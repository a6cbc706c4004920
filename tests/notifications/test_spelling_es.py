"""The Spanish a patient reads is spelled right: Debian's hunspell with its Spanish dictionary
(apt-get install hunspell hunspell-es) over the Spanish message templates (tags and placeholders
left out) and the Spanish catalogue's translations. A word the dictionary lacks but that is right
(a keyword, a clinical term) goes in spelling_es_allow.txt."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.notifications.catalogues import catalogue, entries, message_templates

DICTIONARY = "es_ES"  # hunspell-es installs /usr/share/hunspell/es_ES.{aff,dic}
ALLOW_FILE = Path(__file__).with_name("spelling_es_allow.txt")
# Words the dictionary accepts because, without their accent, they are other words (soler's
# "solido", the verb "medico", the old "mas" for "but"); in these texts each is a lost accent.
LOST_ACCENTS = {
    "mas": "más", "solido": "sólido", "solida": "sólida", "medico": "médico",
    "medica": "médica", "numero": "número", "pagina": "página", "llevara": "llevará",
    "sera": "será", "ademas": "además",
}
TEMPLATE_TAGS = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
PLACEHOLDERS_AND_TAGS = re.compile(r"%\(\w+\)[sd]|<[^>]+>")


def hunspell() -> str:
    """The hunspell program, with its Spanish dictionary. Missing: a failure under .ci/run
    (VERTEBRO_REQUIRE_SERVICES), skipped in a quick local run."""
    program = shutil.which("hunspell")
    dictionary = Path("/usr/share/hunspell") / f"{DICTIONARY}.dic"
    if program is None or not dictionary.exists():
        message = "hunspell or its Spanish dictionary is missing: apt-get install hunspell-es"
        if os.environ.get("VERTEBRO_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    return program


def spanish_texts() -> dict[str, str]:
    """Every Spanish text a patient reads, by where it comes from."""
    texts = {
        path.as_posix().split("templates/", 1)[1]: TEMPLATE_TAGS.sub(" ", path.read_text())
        for path in message_templates("es")
    }
    for entry in entries(catalogue("es")):
        if entry.context.startswith("date format"):
            continue  # "l j \d\e F" is a format, not words
        texts[f"django.po: {entry.key}"] = " ".join(
            PLACEHOLDERS_AND_TAGS.sub(" ", translation) for translation in entry.translations
        )
    return texts


def unknown_words(program: str, text: str) -> set[str]:
    checked = subprocess.run(
        [program, "-d", DICTIONARY, "-i", "utf-8", "-l"],
        input=text, capture_output=True, text=True, timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    found = set(checked.stdout.split())
    found |= {word for word in re.findall(r"\w+", text) if word.lower() in LOST_ACCENTS}
    return found


def allowed() -> set[str]:
    lines = ALLOW_FILE.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_spanish_text_a_patient_reads_is_spelled_right():
    program = hunspell()
    texts = spanish_texts()
    assert len(texts) > 60, "found too few Spanish texts to be reading the right files"

    # One run of hunspell over everything; each unknown word is then traced to its texts.
    unknown = unknown_words(program, "\n".join(texts.values())) - allowed()
    where = {
        word: sorted(source for source, text in texts.items() if word in re.findall(r"\w+", text))
        for word in sorted(unknown)
    }

    assert where == {}


def test_every_word_of_the_allow_list_is_still_used():
    """The allow-list stays short: a word no text uses any more is taken off."""
    program = hunspell()
    flagged = unknown_words(program, "\n".join(spanish_texts().values()))

    assert sorted(allowed() - flagged) == []


def test_the_check_finds_a_lost_accent_and_a_misspelling():
    program = hunspell()

    found = unknown_words(program, "Segun su equipo medico, nada solido. Responda STOP para no "
                                   "recibir mas mensajes. Llame a la clinica.")

    assert found == {"Segun", "medico", "solido", "STOP", "mas", "clinica"}
