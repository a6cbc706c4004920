"""Recording a patient's pain score: by text (notifications.pain_replies) or on their page
(notifications.pain_views)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .. import pain, timing
from ..models import RELEASED_STATUSES, Case
from ..pain_models import PainScore, PainSource


@transaction.atomic
def pain_score_record(
    *,
    case: Case,
    followup_day: int | None,
    score: int,
    source: str,
    sms_id: str = "",
    now: datetime | None = None,
) -> tuple[PainScore, bool]:
    """The score for one ask of the case (the booking's: `followup_day` None). Each ask keeps
    its first answer: a second one for the same ask comes back as the first, with False."""
    if not 0 <= score <= 10:
        raise ValueError(f"A pain score is from 0 to 10, not {score}.")
    return PainScore.objects.get_or_create(
        case=case,
        followup_day=followup_day,
        defaults={
            "score": score,
            "received_at": now or timezone.now(),
            "source": source,
            "sms_id": sms_id if source == PainSource.SMS else "",
        },
    )


def pain_moment_open(*, case: Case, now: datetime) -> pain.Moment | None:
    """The ask a score given on the patient's page now answers, or None (a cancelled case, the
    procedure day itself, long after the last follow-up day)."""
    if case.status in RELEASED_STATUSES:
        return None
    return pain.page_moment(
        today=timing.local_day(now, case.site.zone),
        procedure_day=case.day,
        days=pain.followup_days(case.site.pain_followup_days),
    )
