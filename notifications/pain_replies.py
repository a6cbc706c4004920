"""A patient's answer to a pain ask, by text or on their page. A text is recorded on the case
and thanked, given one retry when it is not a number from 0 to 10, and put on the front desk's
"needs a call" list when it is a second bad answer, a high score after the procedure, or
mentions a fever or redness; a high score on the page goes on the list too.

`inbound_text_record` calls `pain_reply_record` for a text it found no keyword in; the Twilio
webhook answers with `pain_reply_text`, worked out again from what was recorded so a retried
webhook gets the same answer. The reply's words are never logged."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from scheduling import pain
from scheduling.models import RELEASED_STATUSES, Case, Channel
from scheduling.pain_models import PainScore, PainSource
from scheduling.services.pain import pain_moment_open, pain_score_record

from . import rendering
from .models import InboundKind, InboundMessage, MessageKind, Reminder, ReminderStatus
from .pain_planning import followup_day_of

ANSWER_WINDOW = timedelta(days=pain.ANSWER_DAYS)
# Answers that were not a number, per ask: the first gets a retry, the second a call.
BAD_ANSWERS_BEFORE_A_CALL = 2


@dataclass(frozen=True)
class OpenAsk:
    case: Case
    followup_day: int | None
    bad_answers: int


def pain_ask_open(*, phone: str, now: datetime) -> OpenAsk | None:
    """The latest pain ask texted to `phone` that still waits for its answer: sent in the last
    few days, not answered, not given up on after two bad answers, and (the booking's) not past
    the procedure's start. None when there is none."""
    ask = (
        Reminder.objects.filter(
            kind=MessageKind.PAIN_ASK,
            channel=Channel.SMS,
            recipient=phone,
            status__in=(ReminderStatus.SENT, ReminderStatus.DELIVERED),
            sent_at__gte=now - ANSWER_WINDOW,
        )
        .exclude(case__status__in=RELEASED_STATUSES)
        .select_related("case__site", "case__patient")
        .order_by("-sent_at", "-id")
        .first()
    ) if phone else None
    if ask is None:
        return None
    case, day = ask.case, followup_day_of(ask.note)
    if day is None and now >= case.procedure_start:
        return None
    scores = PainScore.objects.filter(case=case)
    if scores.filter(Q(followup_day=day) if day is not None else Q(followup_day__isnull=True)):
        return None
    bad = (
        InboundMessage.objects.filter(
            case=case, kind=InboundKind.PAIN, received_at__gte=ask.sent_at
        )
        .exclude(provider_message_id__in=scores.exclude(sms_id="").values("sms_id"))
        .count()
    )
    if bad >= BAD_ANSWERS_BEFORE_A_CALL:
        return None
    return OpenAsk(case=case, followup_day=day, bad_answers=bad)


def pain_reply_record(*, message: InboundMessage, now: datetime) -> bool:
    """File a text just received as the answer to the sender's open pain ask, if they have
    one: the score recorded, and the text left for a call (unhandled) or marked handled. False,
    and nothing changed, when no ask is open. Runs inside `inbound_text_record`'s transaction."""
    ask = pain_ask_open(phone=message.from_phone, now=now)
    if ask is None:
        return False
    worrying = pain.mentions_worry(message.body)
    score = pain.score_from_reply(message.body)
    if score is None and worrying:
        score = pain.leading_score(message.body)
    if score is not None:
        pain_score_record(
            case=ask.case, followup_day=ask.followup_day, score=score, source=PainSource.SMS,
            sms_id=message.provider_message_id, now=now,
        )
    second_bad = score is None and ask.bad_answers + 1 >= BAD_ANSWERS_BEFORE_A_CALL
    call = second_bad or pain.needs_call(
        score=score, followup_day=ask.followup_day, worrying=worrying
    )
    message.kind = InboundKind.PAIN
    message.case = ask.case
    message.patient = ask.case.patient
    message.handled_at = None if call else now
    message.save(update_fields=["kind", "case", "patient", "handled_at"])
    return True


def pain_reply_text(message: InboundMessage) -> str | None:
    """What we text back to a pain answer, in the patient's language: thanks, the one retry,
    or that someone will call. None for a text that was not a pain answer."""
    if message.kind != InboundKind.PAIN or message.case is None:
        return None
    case = message.case
    if message.handled_at is None:
        name = "pain_call"
    elif PainScore.objects.filter(sms_id=message.provider_message_id).exists():
        name = "pain_thanks"
    else:
        name = "pain_retry"
    return rendering.sms_text(
        name,
        rendering.language_code(case.patient.language),
        {"clinic": case.site.name, "clinic_phone": case.site.phone},
    )


def pain_page_answer(*, case: Case, score: int, now: datetime) -> PainScore | None:
    """A score given on the patient's page, for the ask open there now (None: none is open).
    A high score after the procedure waits on the "needs a call" list like a text would."""
    moment = pain_moment_open(case=case, now=now)
    if moment is None:
        return None
    recorded, created = pain_score_record(
        case=case, followup_day=moment.followup_day, score=score, source=PainSource.LINK, now=now
    )
    if created and pain.needs_call(score=score, followup_day=moment.followup_day, worrying=False):
        InboundMessage.objects.create(
            provider_message_id=f"pain-page:{recorded.pk}",
            from_phone=case.patient.phone,
            body=f"Pain {score}/10 on day {moment.followup_day}, given on the patient's page.",
            kind=InboundKind.PAIN,
            case=case,
            patient=case.patient,
            site=case.site,
        )
    return recorded
