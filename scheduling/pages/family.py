"""The waiting room's family board: no login, reached by the site's random token alone.

An unknown or revoked token is a plain 404, whatever its length or characters. The page tells
browsers and crawlers to keep the token to themselves: no Referer (the token is in the path),
no indexing, no caching.
"""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from limits.rates import FamilyBoardRateLimit, rate_limited

from ..board.family import FAMILY_STAGES, family_board_get
from ..models import CaseStatus

REFRESH_SECONDS = 15
# The class that gives each stage its colour (the style sheet in pages/family_board.html).
STAGE_CSS = {
    CaseStatus.CHECKED_IN: "family-checked-in",
    CaseStatus.IN_PRE_OP: "family-pre-op",
    CaseStatus.IN_PROCEDURE: "family-procedure",
    CaseStatus.CEMENT_SETTING: "family-cement",
    CaseStatus.IN_RECOVERY: "family-recovery",
    CaseStatus.DISCHARGED: "family-home",
}


@never_cache
@rate_limited(FamilyBoardRateLimit)
def family_board(request, token: str):
    board = family_board_get(token, timezone.now())
    if board is None:
        raise Http404("No such family board.")
    context = {
        "board": board,
        "lines": [(line, STAGE_CSS[line.status]) for line in board.lines],
        "legend": [(STAGE_CSS[status], word) for status, word in FAMILY_STAGES.items()],
        "refresh_seconds": REFRESH_SECONDS,
    }
    with timezone.override(board.site.zone):
        response = render(request, "pages/family_board.html", context)
    # SecurityMiddleware only sets its site-wide same-origin policy when none is set here.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
