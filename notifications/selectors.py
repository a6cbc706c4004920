"""Reads of the notifications app that depend on who is asking."""

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from scheduling.models import NOT_ARRIVED_STATUSES, RELEASED_STATUSES, Case, Site
from scheduling.selectors import patients_visible, visible_sites

from .models import InboundKind, InboundMessage, MessageKind, Reminder, running_late_note

# Texts that wait for a call until marked handled: those nobody could act on, and pain answers
# that worry (a second bad answer, a high score after the procedure, a fever or redness).
NEEDS_CALL_KINDS = (InboundKind.OTHER, InboundKind.PAIN)


def inbound_visible(user) -> QuerySet[InboundMessage]:
    """The texts a member of staff may read and mark handled: those about a case of their sites;
    of the rest (no case: an unknown number, a patient whose case was cancelled), those of a
    patient they may see, else those sent to their site's own number. A text from an unknown
    number to a number the sites share belongs to no site: superusers and staff of every site
    read it."""
    if user.is_superuser:
        return InboundMessage.objects.all()
    sites = visible_sites(user)
    caseless = Q(case__isnull=True)
    visible = (
        Q(case__site__in=sites)
        | caseless & Q(patient__in=patients_visible(user))
        | caseless & Q(patient__isnull=True, site__in=sites)
    )
    if Site.objects.exists() and not Site.objects.exclude(pk__in=sites.values("pk")).exists():
        visible |= caseless & Q(patient__isnull=True, site__isnull=True)
    return InboundMessage.objects.filter(visible)


def inbound_needs_call(*, user) -> QuerySet[InboundMessage]:
    """Texts from patients that the system could not act on, not yet handled, oldest first."""
    return inbound_visible(user).filter(
        kind__in=NEEDS_CALL_KINDS, handled_at__isnull=True
    ).select_related("case__patient", "patient").order_by("received_at")


def cases_unit_will_call(*, user, now: datetime) -> list[Case]:
    """The cases of the user's sites whose patients nothing can reach (booked with "the unit will
    call"), on today or tomorrow at their site and not called yet: the front desk calls them the
    day before. Approved cases only: one awaiting review has no time to give yet."""
    days = Q(pk__in=[])
    for site in visible_sites(user):
        today = now.astimezone(site.zone).date()
        days |= Q(site=site, day__in=[today, today + timedelta(days=1)])
    return list(
        Case.objects.filter(days, unit_will_call=True, unit_called_at__isnull=True,
                            status__in=NOT_ARRIVED_STATUSES)
        .select_related("site", "patient")
        .order_by("procedure_start")
    )


def reminders_not_reached(*, site: Site, now: datetime) -> QuerySet[Reminder]:
    """The messages of the site's cases still to come that did not reach their recipient and
    that nobody has marked handled, with their patients: the front desk's list of people to
    call, soonest case first. The cases are found by their day (the site's index of cases by
    day), from today in the site's zone: the messages of every past case are never read."""
    return (
        Reminder.objects.not_reached()
        .filter(case__site=site, case__day__gte=now.astimezone(site.zone).date(),
                case__procedure_start__gte=now, handled_at__isnull=True)
        .exclude(case__status__in=RELEASED_STATUSES)
        .select_related("case__patient")
        .order_by("case__procedure_start", "due_at")
    )


def running_late_told(*, case: Case, delay_minutes: int) -> bool:
    """Whether the patient was already given this delay in the case's current plan."""
    return Reminder.objects.filter(
        case=case,
        kind=MessageKind.RUNNING_LATE,
        plan_version=case.plan_version,
        note=running_late_note(delay_minutes),
    ).exists()
