"""The day board page and the fragment its script fetches every few seconds.

Both read the day through board.day_board_get (a fixed number of queries). The board is read by
every staff role; the buttons that move a case through its stages come with the tracking services.
"""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .. import roles, selectors
from ..board.day import day_board_get
from .access import role_required
from .board_actions import case_steps_attach
from .board_html import board_markup
from .site_day import site_and_day

# The issue asks for a refresh at least every 15 s; tests shorten it with ?refresh=1.
REFRESH_SECONDS = 10
REFRESH_RANGE = (1, 15)
# Wall mode (big type, the rooms and bays filling the screen, no buttons) is a choice of the
# screen, not of the user: the page's script keeps it in this cookie, so a wall screen stays in
# it across reloads and logins, and the page comes already laid out for it.
WALL_COOKIE = "board_wall"


@role_required(*roles.READ_CASES)
def board(request):
    context = _context(request, warn=True)
    if context is None:
        messages.info(request, "You do not work at any site yet: ask an administrator.")
        return render(request, "pages/board.html", {"site": None})
    # What is shut that day heads the page (not the partial the page refreshes every minute).
    context["closures"] = selectors.closures_of_day(site=context["site"], day=context["day"])
    with timezone.override(context["site"].zone):
        return render(request, "pages/board.html", context)


@role_required(*roles.READ_CASES)
def board_partial(request):
    context = _context(request, warn=False)
    if context is None:
        raise Http404("No site.")
    with timezone.override(context["site"].zone):
        return render(request, "pages/board_partial.html", context)


def _context(request, *, warn: bool) -> dict | None:
    sites, site, day, today = site_and_day(request, warn=warn)
    if site is None:
        return None
    now = timezone.now()
    query = {"site": site.code, "date": day.isoformat()}
    board = day_board_get(site, day, now)
    case_steps_attach(board, user=request.user)  # each case's next one-click step
    # The case page's URL without its id: one reverse() instead of one per case.
    case_url = reverse("case-detail", args=[1]).removesuffix("1/")
    refresh_seconds = _refresh_seconds(request)
    markup = board_markup(
        board, request=request, case_url=case_url, refresh_seconds=refresh_seconds
    )
    return {
        "sites": sites,
        "site": site,
        "day": day,
        "today": today,
        "board": board,
        "markup": markup,
        "previous_day": date.fromordinal(day.toordinal() - 1),
        "next_day": date.fromordinal(day.toordinal() + 1),
        "partial_url": reverse("board-partial") + "?" + urlencode(query),
        "refresh_seconds": refresh_seconds,
        "case_url": case_url,
        "tell_late_url": reverse("board-tell-late-all"),
        "wall": request.COOKIES.get(WALL_COOKIE) == "1",
        "wall_cookie": WALL_COOKIE,
    }


def _refresh_seconds(request) -> int:
    default = getattr(settings, "BOARD_REFRESH_SECONDS", REFRESH_SECONDS)
    try:
        seconds = int(request.GET.get("refresh", default))
    except ValueError:
        seconds = default
    low, high = REFRESH_RANGE
    return min(max(seconds, low), high)
