"""Dates as a patient reads them, in the language of the page: "Tuesday 3 March 2026" in
English, "martes 3 de marzo de 2026" in Spanish. The names of days and months are Django's own
translations; the order and the small words between them are ours, in each language's catalogue
(locale/<language>/LC_MESSAGES/django.po), so a new language needs no code."""

from datetime import date, datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import pgettext

register = template.Library()


def _parts(value: date | datetime) -> dict[str, object]:
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return {
        "weekday": formats.date_format(value, "l"),
        "day": value.day,
        "month": formats.date_format(value, "F"),
        "year": value.year,
    }


@register.filter
def long_date(value: date | datetime | None) -> str:
    """The weekday, day, month and year."""
    if value in (None, ""):
        return ""
    return pgettext("a date", "%(weekday)s %(day)s %(month)s %(year)s") % _parts(value)


@register.filter
def day_month(value: date | datetime | None) -> str:
    """The weekday, day and month: a day in the next few weeks."""
    if value in (None, ""):
        return ""
    return pgettext("a date", "%(weekday)s %(day)s %(month)s") % _parts(value)
