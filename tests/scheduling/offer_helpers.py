"""Waiting patients with their own numbers, a freed time, and its offers texted: shared by the
offer tests."""

import itertools
from datetime import date, timedelta

from notifications.inbound import inbound_text_record
from scheduling.models import ProcedureType, WaitingListEntry
from scheduling.offer_models import FreedTime, Offer
from scheduling.offers.sending import offers_dispatch
from scheduling.tasks import offers_start
from tests.factories import CLEAR_SCREENING, NOW, TUESDAY, PatientFactory

# 08:00 in New York, the first minute outside quiet hours: the tests' frozen 07:00 is too early
# for a wave of offers.
DAYTIME = NOW + timedelta(hours=1)

_numbers = itertools.count(200)
_sids = itertools.count(1)


def waiting(site, *, priority="routine", language="en", first_name="Ana", **kwargs):
    """A waiting patient with a mobile number of their own, screening done and clear."""
    patient = PatientFactory(
        phone=kwargs.pop("phone", f"+1212555{next(_numbers):04d}"), language=language,
        first_name=first_name,
    )
    return WaitingListEntry.objects.create(
        site=site, patient=patient, procedure_type=ProcedureType.objects.get(code="vertebroplasty"),
        levels=1, earliest_date=kwargs.pop("earliest_date", TUESDAY),
        latest_date=kwargs.pop("latest_date", date(2026, 3, 20)), priority=priority,
        screening=dict(CLEAR_SCREENING), screening_done=True, **kwargs,
    )


def offered(case) -> FreedTime:
    """The freed time of a case just cancelled or moved, its first wave made and texted, as the
    task queued after the commit does it."""
    freed = FreedTime.objects.get(case=case)
    offers_start(freed.pk)
    freed.refresh_from_db()
    return freed


def text(phone, body, now=None):
    """A text from `phone`, as the webhook records it; the reply it answers with."""
    message, _ = inbound_text_record(
        provider_message_id=f"SM{next(_sids):032x}", from_phone=phone, to_phone="", body=body,
        now=now,
    )
    return message, getattr(message, "reply_text", "")


def offer_of(entry) -> Offer:
    return Offer.objects.get(entry=entry)


def send_due() -> int:
    return offers_dispatch()
