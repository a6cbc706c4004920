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

from ..family import FAMILY_STAGES, family_board_get

REFRESH_SECONDS = 15


@never_cache
@rate_limited(FamilyBoardRateLimit)
def family_board(request, token: str):
    board = family_board_get(token, timezone.now())
    if board is None:
        raise Http404("No such family board.")
    context = {
        "board": board,
        "legend": FAMILY_STAGES.values(),
        "refresh_seconds": REFRESH_SECONDS,
    }
    with timezone.override(board.site.zone):
        response = render(request, "pages/family_board.html", context)
    # SecurityMiddleware only sets its site-wide same-origin policy when none is set here.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
