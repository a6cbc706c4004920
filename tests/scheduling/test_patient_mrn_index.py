"""Registering a patient looks the MRN up case-insensitively (the front desk types it in any
case) through the `patient_mrn_upper` index, not by reading every patient ever registered: with
a health system's history, a booking of a new patient would otherwise scan the whole table. The
plans are taken with sequential scans switched off, as a test table is tiny."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling import roles
from scheduling.services.patients import patient_known_elsewhere, patient_register
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def patient_plans(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            sql = query["sql"]
            if 'FROM "scheduling_patient"' in sql and "UPPER(" in sql:
                cursor.execute(f"EXPLAIN {sql}")
                found.append("\n".join(line for (line,) in cursor.fetchall()))
    return found


def assert_by_mrn_index(found: list[str]) -> None:
    assert found, "no case-insensitive MRN lookup was made"
    for plan in found:
        assert "patient_mrn_upper" in plan, plan
        assert "Seq Scan on scheduling_patient" not in plan, plan


def test_registering_a_new_patient_finds_the_mrn_by_its_index(unit):
    PatientFactory.create_batch(5)
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[unit])
    found = patient_plans(lambda: patient_register(
        site=unit, by=clerk, first_name="Ana", last_name="Ruiz",
        date_of_birth=date(1950, 1, 2), mrn="mrn-new-1",
    ))
    assert_by_mrn_index(found)


def test_the_booking_forms_look_up_of_a_patient_known_elsewhere_uses_the_index(unit):
    other = PatientFactory(mrn="ELSE-7")
    clerk = UserFactory(roles=[roles.FRONT_DESK], sites=[unit])
    found = patient_plans(lambda: patient_known_elsewhere(
        mrn="else-7", date_of_birth=other.date_of_birth, last_name=other.last_name, user=clerk,
    ))
    assert_by_mrn_index(found)
