"""Reads of the notifications app that depend on who is asking."""

from datetime import datetime

from django.db.models import Q, QuerySet

from scheduling.models import RELEASED_STATUSES, Case, Site
from scheduling.selectors import patients_visible, visible_sites

from .models import InboundMessage, MessageKind, Reminder, running_late_note


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


def reminders_not_reached(*, site: Site, now: datetime) -> QuerySet[Reminder]:
    """The messages of the site's cases still to come that did not reach their recipient, with
    their patients: the front desk's list of people to call, soonest case first."""
    return (
        Reminder.objects.not_reached()
        .filter(case__site=site, case__procedure_start__gte=now)
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
