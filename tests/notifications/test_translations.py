"""Every language a patient can read is complete: each message kind has its templates in it, its
catalogue translates every string the pages and wrappers use (none fuzzy, none missing, none that
makemessages would add), and a language is added by adding files, not code."""

import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.template.loader import get_template

from notifications import rendering
from notifications.languages import language_code
from notifications.models import Audience, MessageKind, ReminderRule
from scheduling.pages.forms import LANGUAGES as FORM_LANGUAGES
from tests.notifications.catalogues import (
    CHANNELS,
    MESSAGE_TEMPLATES,
    ROOT,
    catalogue,
    entries,
    languages,
    translated_languages,
)

pytestmark = pytest.mark.django_db
# As the documented command: python manage.py makemessages -l <code> --ignore ... (README).
MAKEMESSAGES_IGNORES = (".venv", "var", "tests", "bench")


def kinds_and_audiences() -> list[tuple[str, str]]:
    """Each kind with the audiences its rules send it to; a kind with no rule yet is taken as
    one for patients, who need the most templates."""
    ruled = set(ReminderRule.objects.values_list("kind", "audience"))
    pairs = set(ruled)
    for kind in MessageKind.values:
        if not any(ruled_kind == kind for ruled_kind, _audience in ruled):
            pairs.add((kind, Audience.PATIENT))
    return sorted(pairs)


def test_every_message_kind_has_its_templates_in_every_language():
    missing = []
    for kind, audience in kinds_and_audiences():
        for code in languages():
            for name in rendering.template_names(kind=kind, audience=audience, language=code):
                try:
                    get_template(name)
                except Exception as exc:  # missing or not compiling: both leave a patient unread
                    missing.append(f"{name} ({audience}): {type(exc).__name__}")
    assert missing == []


def test_every_english_text_has_its_counterpart_in_every_language():
    """Replies (help, the opt-out line), parts included by emails and the calendar file's text
    are not message kinds; English is the reference for them too."""
    english = sorted(
        (channel, path.name)
        for channel in CHANNELS
        for path in (MESSAGE_TEMPLATES / channel / "en").glob("*.txt")
    )
    assert len(english) > 40, "found too few English templates to be reading the right folder"
    missing = [
        f"{channel}/{code}/{name}"
        for code in translated_languages()
        for channel, name in english
        if not (MESSAGE_TEMPLATES / channel / code / name).exists()
    ]
    missing += [
        f"ics/{code}.txt"
        for code in languages()
        if not (MESSAGE_TEMPLATES / "ics" / f"{code}.txt").exists()
    ]
    assert missing == []


@pytest.mark.parametrize("code", translated_languages())
def test_the_catalogue_translates_every_string_with_nothing_fuzzy(code):
    path = catalogue(code)
    assert path.exists(), f"{path} is missing: python manage.py makemessages -l {code}"
    found = entries(path)
    assert found, f"{path} has no strings"

    assert [entry.key for entry in found if not entry.translated] == []
    assert [entry.key for entry in found if entry.fuzzy] == []


@pytest.mark.parametrize("code", translated_languages())
def test_the_catalogues_placeholders_match_their_strings(code):
    """A translation that drops or misspells %(clinic)s breaks the page that shows it."""
    if shutil.which("msgfmt") is None:
        pytest.fail("msgfmt is missing: apt-get install -y gettext")
    checked = subprocess.run(
        ["msgfmt", "--check-format", "--check-domain", "-o", "/dev/null", str(catalogue(code))],
        capture_output=True, text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_makemessages_would_add_nothing_and_drop_nothing(tmp_path):
    """makemessages run on a copy of the sources: the catalogue already holds every string the
    code and templates mark for translation, and nothing they no longer use."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: apt-get install -y gettext")
    copy = tmp_path / "tree"
    copy.mkdir()
    for item in ROOT.iterdir():
        source = item.name in ("templates", "locale") or (item / "__init__.py").exists()
        if source and item.name not in MAKEMESSAGES_IGNORES:
            shutil.copytree(item, copy / item.name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy2(ROOT / "manage.py", copy / "manage.py")
    command = [sys.executable, "manage.py", "makemessages", "--verbosity", "0"]
    command += [arg for code in translated_languages() for arg in ("-l", code)]
    command += [arg for ignored in MAKEMESSAGES_IGNORES for arg in ("--ignore", ignored)]
    made = subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr

    for code in translated_languages():
        ours = {entry.key for entry in entries(catalogue(code))}
        wanted = {entry.key for entry in entries(catalogue(code, root=copy))}
        assert sorted(wanted - ours) == [], f"locale/{code}: makemessages would add these"
        assert sorted(ours - wanted) == [], f"locale/{code}: nothing uses these any more"


def test_a_language_is_added_by_adding_files():
    """The languages are read from locale/ (settings), never listed again in code."""
    on_disk = {path.name for path in (ROOT / "locale").iterdir() if path.is_dir()}
    assert set(languages()) == {"en"} | on_disk
    assert tuple(languages()) == rendering.LANGUAGES
    assert [code for code, _label in FORM_LANGUAGES] == languages()
    assert settings.LOCALE_PATHS == [ROOT / "locale"]


@pytest.mark.parametrize(
    ("recorded", "read"),
    [("es", "es"), ("es-MX", "es"), ("ES_us", "es"), ("en-GB", "en"), ("", "en"), ("tlh", "en")],
)
def test_a_patients_recorded_language_is_read_as_one_we_write_in(recorded, read):
    assert language_code(recorded) == read
