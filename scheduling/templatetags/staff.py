from django import template

from .. import roles, timing

register = template.Library()


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
def local_time(instant, site) -> str:
    """{% local_time instant site %}: the wall-clock time at the site, on its clock."""
    if instant is None:
        return ""
    return timing.local_hm(instant, site.zone, locale=site.locale)


@register.filter
def spelled(text: str, locale: str) -> str:
    """{{ label|spelled:site.locale }}: staff wording in the site's spelling."""
    return timing.spelled(str(text), locale=locale)
