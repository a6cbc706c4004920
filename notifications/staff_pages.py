"""The front desk's call lists as pages: texts that need a call and patients the unit calls
(the "needs a call" page), and messages that did not reach their patient (the "not reached"
page), each with its one-click actions. The pages read through the selectors and act through the
services the messages API calls; every action is a POST that returns to its list."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from scheduling import roles
from scheduling.errors import SchedulingError
from scheduling.pages.access import role_required
from scheduling.pages.site_day import site_and_day
from scheduling.selectors import MAX_ID, case_get, visible_sites
from scheduling.services.calls import unit_called

from . import services
from .models import Reminder
from .selectors import (
    cases_unit_will_call,
    inbound_needs_call,
    inbound_visible,
    reminders_not_reached,
)


@role_required(*roles.READ_CASES)
def needs_call(request):
    context = {
        "texts": list(inbound_needs_call(user=request.user)),
        "calls": cases_unit_will_call(user=request.user, now=timezone.now()),
        "can_act": roles.user_has_role(request.user, roles.BOOK_CASES),
    }
    # Texts are shown in the time of the user's (first) site, as the board and day list are.
    site = visible_sites(request.user).first()
    context["site"] = site
    with timezone.override(site.zone if site else timezone.get_current_timezone()):
        return render(request, "notifications/staff/needs_call.html", context)


@role_required(*roles.READ_CASES)
def not_reached(request):
    sites, site, _, _ = site_and_day(request, warn=False)
    rows = []
    if site is not None:
        rows = list(
            reminders_not_reached(site=site, now=timezone.now()).prefetch_related("resends")
        )
    context = {
        "sites": sites, "site": site, "rows": rows,
        "can_act": roles.user_has_role(request.user, roles.BOOK_CASES),
    }
    with timezone.override(site.zone if site else timezone.get_current_timezone()):
        return render(request, "notifications/staff/not_reached.html", context)


@require_POST
@role_required(*roles.BOOK_CASES)
def text_handled(request, pk: int):
    message = _found(inbound_visible(request.user), pk)
    services.inbound_handled(message)
    messages.success(request, "The text is marked handled.")
    return redirect("needs-call")


@require_POST
@role_required(*roles.BOOK_CASES)
def case_called(request, pk: int):
    case = case_get(pk, request.user) if 0 < pk <= MAX_ID else None
    if case is None:
        raise Http404("No such case.")
    try:
        unit_called(case=case, by=request.user)
    except SchedulingError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{case.patient}: marked as called.")
    return redirect("needs-call")


@require_POST
@role_required(*roles.BOOK_CASES)
def reminder_resend(request, pk: int):
    reminder = _found(_reminders(request.user), pk)
    try:
        services.reminder_resend(reminder=reminder, by=request.user)
    except SchedulingError as error:
        messages.error(request, error.detail)
    else:
        messages.success(
            request, f"{reminder.get_kind_display()} to {reminder.recipient}: sent again."
        )
    return _back_to_list(request, reminder)


@require_POST
@role_required(*roles.BOOK_CASES)
def reminder_handled(request, pk: int):
    reminder = _found(_reminders(request.user), pk)
    services.reminder_handled(reminder=reminder, by=request.user)
    messages.success(request, f"{reminder.get_kind_display()}: marked handled.")
    return _back_to_list(request, reminder)


def _reminders(user):
    return Reminder.objects.filter(case__site__in=visible_sites(user)).select_related("case__site")


def _found(queryset, pk: int):
    row = queryset.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if row is None:
        raise Http404("No such message.")
    return row


def _back_to_list(request, reminder: Reminder):
    query = urlencode({"site": reminder.case.site.code})
    return redirect(f"{reverse('not-reached')}?{query}")
