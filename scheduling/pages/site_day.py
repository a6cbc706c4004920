"""The site and day a page shows (the board, the day list, the plan page), picked from its query
the same way everywhere: a site the user works at (their first by default; another is a 404) and
a YYYY-MM-DD date among the days shown (a bad one is told and replaced by the default day)."""

import re
from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404
from django.utils import timezone

from .. import horizon, selectors
from ..errors import SchedulingError
from ..models import Site

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def site_and_day(
    request, source=None, *, days_ahead: int = 0, warn: bool = True
) -> tuple[list[Site], Site | None, date | None, date | None]:
    """(the user's sites, the site, the day, today at the site); with no sites, the last three
    are None. The default day is today plus `days_ahead` in the site's zone."""
    source = request.GET if source is None else source
    sites = list(selectors.visible_sites(request.user))
    if not sites:
        return sites, None, None, None
    code = source.get("site", "")
    site = next((site for site in sites if site.code == code), None) if code else sites[0]
    if site is None:
        raise Http404("No such site.")
    today = timezone.now().astimezone(site.zone).date()
    default = today + timedelta(days=days_ahead)
    raw = source.get("date", "").strip(" ")
    day = horizon.day_parse(raw) if raw else default
    problem = None
    if day is None:
        shown = CONTROL_CHARACTERS.sub("", raw[:40])
        problem = f"“{shown}” is not a date (YYYY-MM-DD)"
    else:
        try:
            horizon.day_shown_check(day=day, today=today)
        except SchedulingError as error:
            problem = error.detail.removesuffix(".")
    if problem is not None:
        day = default
        if warn:
            shown = {0: "today", 1: "tomorrow"}.get(days_ahead, "the usual day")
            messages.error(request, f"{problem}; showing {shown}.")
    return sites, site, day, today
