"""Patients accepting the same freed time at the same moment, on PostgreSQL: each reply is a text
from its own number on its own connection, committed for real. The booking's exclusion
constraints decide: exactly one patient gets the time, the others are told it has gone."""

import pytest

from scheduling.models import Case, CaseStatus, WaitingStatus
from scheduling.offer_models import FreedTimeStatus, Offer, OfferStatus
from scheduling.services import case_cancel
from tests.factories import UserFactory, build_unit, case_made
from tests.scheduling.offer_helpers import DAYTIME, offered, text, waiting
from tests.scheduling.test_plan_day import at
from tests.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def daytime(clock):
    clock.move_to(DAYTIME)


N = 8


def test_eight_patients_saying_yes_at_once_book_the_freed_time_exactly_once():
    site = build_unit(rooms=1, pre_op_bays=1, recovery_bays=1)
    site.offer_wave_size = N
    site.save()
    entries = [waiting(site, first_name=f"Racer{n}") for n in range(N)]
    case = case_made(site=site, start=at(10, 45), driver_name="")
    case_cancel(case=case, reason="Patient has a cold", by=UserFactory())
    freed = offered(case)
    assert Offer.objects.filter(freed_time=freed, status=OfferStatus.OFFERED).count() == N

    replies = run_together(
        [lambda phone=entry.patient.phone: text(phone, "YES")[1] for entry in entries]
    )

    assert [r for r in replies if isinstance(r, BaseException)] == []
    won = [r for r in replies if "the time is yours" in r]
    gone = [r for r in replies if "someone answered first" in r]
    assert (len(won), len(gone)) == (1, N - 1)
    booked = Case.objects.filter(patient__in=[e.patient for e in entries])
    assert booked.count() == 1
    (new_case,) = booked
    assert (new_case.procedure_start, new_case.status) == (at(10, 45), CaseStatus.BOOKED)
    # The losers found the time gone: most often refused by the booking itself (slot_taken).
    outcomes = Offer.objects.filter(freed_time=freed, status=OfferStatus.TAKEN)
    assert all(o.startswith(("The time had gone", "Another patient took the time"))
               for o in outcomes.values_list("outcome", flat=True))
    statuses = sorted(Offer.objects.filter(freed_time=freed).values_list("status", flat=True))
    assert statuses == ["accepted"] + ["taken"] * (N - 1)
    freed.refresh_from_db()
    assert freed.status == FreedTimeStatus.FILLED
    scheduled = [e for e in entries if (e.refresh_from_db() or e.status) == WaitingStatus.SCHEDULED]
    assert [e.case_id for e in scheduled] == [new_case.pk]
