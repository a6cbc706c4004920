"""The languages a patient can read: English, and each language with a catalogue under locale/
(settings.LANGUAGES). A language is added by adding files, not code: its catalogue
(locale/<code>/LC_MESSAGES/django.po) and its message templates
(templates/notifications/<channel>/<code>/...); tests/notifications/test_translations.py says
what is missing."""

from django.conf import settings

DEFAULT = "en"
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def language_code(language: str) -> str:
    """The patient's recorded language as one we write in ("es-MX" reads Spanish); any other
    reads English."""
    code = (language or DEFAULT).strip().lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT
