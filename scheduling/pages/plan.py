"""Plan the day (managers): the optimiser's proposal beside the day as booked, applied on
confirmation. Proposing queues a plan run that a worker solves; the page shows its progress
(plan_run.js asks for the run's part of the page until it is done) and then the proposal. The
proposal comes back with the apply form as a signed token, so a day that changed in between is
refused, not overwritten."""

from datetime import datetime, timedelta

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
from ..plan.proposal import plan_apply
from ..plan.runs import plan_run_get, plan_run_request, plan_run_status
from ..plan.whatif import WHAT_IFS
from ..plan_models import PlanRun, PlanRunStatus
from .access import role_required
from .site_day import site_and_day

# How long a manager may let the planner think (it runs on a worker, not in the request).
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
        return _propose(request, site, day, context)
    run_id = source.get("run", "")
    if run_id:
        run = _run_of(request, run_id, site_code=site.code, day=day)
        context["choice"] = {**context["choice"], **run.options}
        context.update(run_context(run))
    with timezone.override(site.zone):
        return render(request, "pages/plan.html", context)


def _propose(request, site, day, context):
    source = request.POST
    choice = {
        "waiting_list": source.get("waiting_list") == "on",
        "allow_move_told": source.get("allow_move_told") == "on",
        "what_if": source.get("what_if") if source.get("what_if") in WHAT_IFS else "",
        "time_limit": _time_limit(source.get("time_limit")),
    }
    options = {**choice, "what_if": choice["what_if"] or None}
    try:
        run = plan_run_request(site=site, day=day, by=request.user, options=options)
    except SchedulingError as error:
        messages.error(request, error.detail)
        context["choice"] = choice
        with timezone.override(site.zone):
            return render(request, "pages/plan.html", context)
    query = urlencode({"site": site.code, "date": day.isoformat(), "run": run.pk})
    return redirect(reverse("plan") + "?" + query)


def _run_of(request, run_id: str, **where) -> PlanRun:
    """A run of the user's sites (of this site and day when given), else 404."""
    run = plan_run_get(pk=int(run_id) if run_id.isdigit() else 0, user=request.user, **where)
    if run is None:
        raise Http404("No such plan.")
    return run


@role_required(roles.ADMIN)
def plan_run_part(request, pk: int):
    """The run's part of the plan page: its progress, or the proposal once done."""
    run = _run_of(request, str(pk))
    with timezone.override(run.site.zone):
        return render(request, "pages/_plan_run.html", {
            "site": run.site, "day": run.day, **run_context(run),
        })


def _time_limit(raw) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return 10
    return value if value in TIME_LIMITS else 10


def _at(text):
    return datetime.fromisoformat(text) if text else None


def run_context(run: PlanRun) -> dict:
    status, code, detail = plan_run_status(run)
    context = {"run": {
        "id": run.pk, "status": status, "progress": run.progress, "error": detail,
        "error_code": code, "waiting": status in (PlanRunStatus.QUEUED, PlanRunStatus.RUNNING),
        "url": reverse("plan-run", args=[run.pk]),
    }}
    if status != PlanRunStatus.DONE:
        return context
    result = run.result
    proposal = result["proposal"]
    rows = [
        {**row, "label": result["labels"].get(row["key"], ""),
         "current_start": _at(row["current_start"]), "proposed_start": _at(row["proposed_start"])}
        for row in proposal["rows"]
    ]
    what_if = proposal["what_if"]
    context.update({
        "proposal": {**proposal, "changes": result["changes"]},
        "rows": rows,
        "end_now": _at(result["end_now"]),
        "end_proposed": _at(proposal["end_of_day"]),
        "what_if": what_if,
        "what_if_end": _at(what_if["end_of_day"]) if what_if else None,
    })
    return context


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
