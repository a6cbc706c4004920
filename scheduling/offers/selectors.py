"""The offers staff see: one site's, newest first, over the last days."""

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from ..models import Site
from ..offer_models import Offer

RECENT_DAYS = 30
MOST = 500


def offers_recent(
    *, site: Site, now: datetime | None = None, limit: int = MOST
) -> QuerySet[Offer]:
    """Offers of freed times at `site` made in the last RECENT_DAYS days (the caller has
    checked the site is the user's, so its waiting patients are theirs to see)."""
    since = (now or timezone.now()) - timedelta(days=RECENT_DAYS)
    return (
        Offer.objects.filter(freed_time__site=site, created_at__gte=since)
        .select_related("patient", "freed_time")
        .order_by("-created_at", "-id")[:limit]
    )
