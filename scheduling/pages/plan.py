"""Plan the day (managers): the optimiser's proposal beside the day as booked, applied on
confirmation. The proposal comes back with the form as a signed token, so nothing is kept
between the two requests and a day that changed in between is refused, not overwritten."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from limits.rates import PlanRateLimit, rate_limited

from .. import roles, selectors
from ..errors import SchedulingError
from ..offers.selectors import offers_recent
from ..plan.loader import instant
from ..plan.proposal import plan_apply, plan_propose
from ..plan.whatif import WHAT_IFS
from .access import role_required
from .site_day import site_and_day

# Well inside gunicorn's 30-second request timeout (deploy/gunicorn.conf.py).
TIME_LIMITS = (2, 5, 10, 20)
PAGE_OFFERS = 30


@role_required(roles.ADMIN)
@rate_limited(PlanRateLimit, methods=["POST"])
def plan(request):
    if not selectors.visible_sites(request.user).exists():
        messages.info(request, "You do not work at any site yet: ask an administrator.")
        return render(request, "pages/plan.html", {"site": None})
    source = request.POST if request.method == "POST" else request.GET
    sites, site, day, today = site_and_day(request, source, days_ahead=1)
    closed_why = selectors.site_closed_why(site=site, day=day)
    open_day = selectors.next_open_day(site=site, day=day) if closed_why is not None else day
    if closed_why is not None and not source.get("date") and open_day is not None:
        # Asked for no day and tomorrow is shut: a manager plans the next day the unit opens.
        because = f" ({closed_why})" if closed_why else ""
        messages.info(
            request,
            f"{site.name} is closed on {day:%A %-d %B %Y}{because}: showing the next open day.",
        )
        day, closed_why = open_day, None
    context = {
        "sites": sites, "site": site, "day": day, "today": today,
        "previous_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
        "what_ifs": WHAT_IFS.items(), "time_limits": TIME_LIMITS,
        "closed_why": closed_why, "next_open_day": open_day,
        "closures": selectors.closures_of_day(site=site, day=day),
        "cases": selectors.cases_of_day(site, day),
        "offers": offers_recent(site=site, limit=PAGE_OFFERS),
        "choice": {"waiting_list": True, "allow_move_told": False, "what_if": "",
                   "time_limit": 10},
    }
    if request.method == "POST":
        choice = {
            "waiting_list": source.get("waiting_list") == "on",
            "allow_move_told": source.get("allow_move_told") == "on",
            "what_if": source.get("what_if") if source.get("what_if") in WHAT_IFS else "",
            "time_limit": _time_limit(source.get("time_limit")),
        }
        context["choice"] = choice
        try:
            proposal = plan_propose(
                site=site, day=day, waiting_list=choice["waiting_list"],
                allow_move_told=choice["allow_move_told"], time_limit=choice["time_limit"],
                what_if=choice["what_if"] or None,
            )
        except SchedulingError as error:
            messages.error(request, error.detail)
        else:
            context.update(_proposal_context(proposal))
    with timezone.override(site.zone):
        return render(request, "pages/plan.html", context)


def _time_limit(raw) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return 10
    return value if value in TIME_LIMITS else 10


def _at(minutes):
    return instant(minutes) if minutes is not None else None


def _proposal_context(proposal) -> dict:
    what_if = proposal.what_if
    return {
        "proposal": proposal,
        "rows": proposal.rows,
        "end_now": _at(proposal.current_end),
        "end_proposed": _at(proposal.plan.end_of_day),
        "what_if": what_if,
        "what_if_end": _at(what_if.end_of_day) if what_if else None,
    }


@require_POST
@role_required(roles.ADMIN)
@rate_limited(PlanRateLimit)
def plan_apply_page(request):
    _, site, day, _ = site_and_day(request, request.POST, days_ahead=1)
    if site is None:
        raise Http404("You do not work at any site.")
    back = reverse("plan") + "?" + urlencode({"site": site.code, "date": day.isoformat()})
    try:
        changed = plan_apply(site=site, day=day, token=request.POST.get("token", ""),
                             by=request.user)
    except SchedulingError as error:
        messages.error(request, error.detail)
        return redirect(back)
    messages.success(
        request, f"Plan applied: {len(changed)} case{'s' if len(changed) != 1 else ''} booked "
        "or moved; their patients' messages follow the new times.",
    )
    return redirect(back)
