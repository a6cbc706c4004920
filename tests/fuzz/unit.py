"""A realistic unit for the API fuzzer: the main site with its rooms and bays, a surgeon, the
vertebroplasty type, cases today and tomorrow (one checked in, one cancelled), their reminders
(one failed), a text on the needs-a-call list and a patient on the waiting list; and one member
of staff who holds every role at the site, so that generated requests get past authorization
to the code behind it."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections, transaction
from django.test.utils import override_settings
from rest_framework.authtoken.models import Token

from notifications.models import InboundKind, InboundMessage, Reminder, ReminderStatus
from scheduling import roles
from scheduling.models import Case, Site
from tests.conftest import CLEAR_SCREENING, build_unit, case_payload, client_for
from tests.factories import NOW, UserFactory
from tests.live_day import settings_of_a_test

MONDAY = "2026-03-02"  # today under the frozen clock
TUESDAY = "2026-03-03"
BOOKINGS = [
    (MONDAY, "T10:00:00-05:00"),
    (MONDAY, "T11:30:00-05:00"),
    (MONDAY, "T13:00:00-05:00"),
    (TUESDAY, "T09:00:00-05:00"),
    (TUESDAY, "T10:30:00-05:00"),
    (TUESDAY, "T12:00:00-05:00"),
]


@dataclass
class FuzzUnit:
    site: Site
    token: str
    case_ids: list[int]
    reminder_ids: list[int]
    inbound_ids: list[int]
    waiting_ids: list[int]

    def ids_for(self, path: str) -> list[int]:
        """Real objects behind `{id}` in a path."""
        if path.startswith("/api/v1/messages/needs-call/"):
            return self.inbound_ids
        if path.startswith("/api/v1/messages/"):
            return self.reminder_ids
        if path.startswith("/api/v1/waiting-list/"):
            return self.waiting_ids
        return self.case_ids


def rate_limits_off(settings) -> None:
    """Hundreds of requests a minute from one user and address: with the rate limits on, the
    planner and the token endpoint would answer 429 before their code is reached
    (tests/test_rate_limits.py covers the limits)."""
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "")


@pytest.fixture
def fuzz_unit(db, settings) -> FuzzUnit:
    rate_limits_off(settings)
    return fuzz_unit_built()


@pytest.fixture(scope="module")
def fuzz_unit_once(django_db_setup, django_db_blocker) -> Iterator[FuzzUnit]:
    """The unit built once for a module whose every test uses it (as `fuzz_unit_shared`): in a
    transaction of the module's own, rolled back after its last test, inside which each test
    runs in a savepoint of its own, so what one test writes the next does not see."""
    limits = dict.fromkeys(django_settings.RATE_LIMITS, "")
    with (django_db_blocker.unblock(), settings_of_a_test("fuzz"),
          override_settings(RATE_LIMITS=limits), time_machine.travel(NOW, tick=False),
          transaction.atomic()):
        yield fuzz_unit_built()
        transaction.set_rollback(True)


@pytest.fixture
def fuzz_unit_shared(db, settings, fuzz_unit_once) -> FuzzUnit:
    rate_limits_off(settings)
    return fuzz_unit_once


def fuzz_unit_built() -> FuzzUnit:
    site = build_unit(surgeons=1)
    clerk = client_for(roles.FRONT_DESK, sites=[site])
    case_ids = []
    for number, (day, start) in enumerate(BOOKINGS):
        payload = case_payload(date=day, start=day + start)
        payload["patient"] = payload["patient"] | {"mrn": f"MRN-F{number}"}
        response = clerk.post("/api/v1/cases/", payload, format="json")
        assert response.status_code == 201, response.json()
        case_ids.append(response.json()["id"])
    nurse = client_for(roles.NURSE, sites=[site])
    assert nurse.post(f"/api/v1/cases/{case_ids[0]}/check-in/").status_code == 200
    cancelled = clerk.post(f"/api/v1/cases/{case_ids[5]}/cancel/", {"reason": "Unwell"},
                           format="json")
    assert cancelled.status_code == 200
    Reminder.objects.filter(case_id=case_ids[3]).update(status=ReminderStatus.FAILED)
    inbound = InboundMessage.objects.create(
        from_phone="+12125550100", body="Can I bring my daughter?", kind=InboundKind.OTHER,
        case=Case.objects.get(pk=case_ids[3]), provider_message_id="SM-fuzz-1",
    )
    waiting = clerk.post("/api/v1/waiting-list/", {
        "site": site.code, "patient_id": Case.objects.get(pk=case_ids[5]).patient_id,
        "procedure_type": "vertebroplasty", "levels": 1, "earliest_date": TUESDAY,
        "latest_date": "2026-03-20", "priority": "urgent", "screening": CLEAR_SCREENING,
    }, format="json")
    assert waiting.status_code == 201, waiting.json()
    user = UserFactory(roles=list(roles.ALL_ROLES))
    user.sites.set([site])
    return FuzzUnit(
        site=site,
        token=Token.objects.create(user=user).key,
        case_ids=case_ids,
        reminder_ids=list(Reminder.objects.order_by("id").values_list("id", flat=True)),
        inbound_ids=[inbound.pk],
        waiting_ids=[waiting.json()["id"]],
    )


@pytest.fixture
def wsgi_in_test_transaction(db):
    """Django's WSGI handler closes a connection that is inside a transaction at the start and
    end of every request; under the test's transaction that would end it. The test client
    switches this off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


__all__ = ["FuzzUnit", "fuzz_unit", "fuzz_unit_once", "fuzz_unit_shared",
           "wsgi_in_test_transaction"]
