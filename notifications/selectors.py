"""Reads of the notifications app that depend on who is asking."""

from django.db.models import Q, QuerySet

from scheduling.models import Site
from scheduling.selectors import patients_visible, visible_sites

from .models import InboundMessage


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
