from datetime import date, datetime

from django import template
from django.utils import timezone

from notifications.templatetags import patient_dates

from .. import roles, timing

register = template.Library()


def _zone_and_locale(site):
    """A page with no site yet (a user of none) writes in the current zone, the default way."""
    if site is None:
        return timezone.get_current_timezone(), timing.DEFAULT_LOCALE
    return site.zone, site.locale


@register.filter
def has_role(user, names: str) -> bool:
    """{% if user|has_role:"front_desk,clinician" %}: the user holds one of these roles."""
    return roles.user_has_role(user, tuple(name.strip() for name in names.split(",")))


@register.simple_tag
def local_date(day, locale: str, style: str = "long") -> str:
    """{% local_date day site.locale "short" %}: a day as the site writes it (timing.date_text)."""
    if day is None:
        return ""
    return timing.date_text(day, locale=locale, style=style)


@register.simple_tag
def site_date(value: date | datetime | None, site, style: str = "long") -> str:
    """{% site_date case.procedure_start site "day_month" %}: the day of an instant at the site
    (or a day), as the site writes it."""
    if value in (None, ""):
        return ""
    zone, locale = _zone_and_locale(site)
    if isinstance(value, datetime):
        value = timing.local_day(value, zone)
    return timing.date_text(value, locale=locale, style=style)


@register.simple_tag
def local_time(instant, site) -> str:
    """{% local_time instant site %}: the wall-clock time at the site, on its clock."""
    if instant in (None, ""):
        return ""
    zone, locale = _zone_and_locale(site)
    return timing.local_hm(instant, zone, locale=locale)


@register.simple_tag
def site_when(instant, site, style: str = "day_month") -> str:
    """{% site_when instant site %}: the day and time of an instant at the site ("Tue Mar 3,
    7:30 AM" in en-US, "Tue 3 Mar, 07:30" in en-GB); style "day_month_year" adds the year."""
    if instant in (None, ""):
        return ""
    zone, locale = _zone_and_locale(site)
    return timing.when_text(instant, zone, locale=locale, style=style)


@register.simple_tag
def paper_date(value, site, language: str, style: str = "long") -> str:
    """A date on the paper the patient takes home: written the site's way when the paper is in
    English (the unit's own language); in another language, that language's way, as its
    messages write it."""
    if language != "en":
        return (patient_dates.long_date if style == "long" else patient_dates.day_month)(value)
    return site_date(value, site, style)


@register.simple_tag
def paper_time(instant, site, language: str) -> str:
    """A time on the paper: the site's clock in English, 24 h in another language (as its
    messages write it)."""
    if instant is None:
        return ""
    locale = site.locale if language == "en" else None
    return timing.local_hm(instant, site.zone, locale=locale)


@register.filter
def spelled(text: str, locale: str) -> str:
    """{{ label|spelled:site.locale }}: staff wording in the site's spelling."""
    return timing.spelled(str(text), locale=locale)
