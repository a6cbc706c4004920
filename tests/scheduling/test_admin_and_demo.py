import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from scheduling.models import Case, Drug, ProcedureType, Resource, Site, StageTemplate, Surgeon
from tests.factories import case_made

pytestmark = pytest.mark.django_db


def test_the_drug_table_is_seeded_by_the_migrations():
    warfarin = Drug.objects.get(code="warfarin")
    assert (warfarin.hold_days, warfarin.inr_check) == (5, True)
    assert Drug.objects.get(code="apixaban").hold_doses == 4
    assert Drug.objects.get(code="prasugrel").hold_days == 7


def test_seed_demo_builds_the_unit_once(capsys):
    call_command("seed_demo")
    counts = (Case.objects.count(), Resource.objects.count(), StageTemplate.objects.count())
    call_command("seed_demo")

    assert (Case.objects.count(), Resource.objects.count(), StageTemplate.objects.count()) == counts
    assert counts[0] >= 10
    site = Site.objects.get(code="main")
    assert site.time_zone == "America/New_York"
    assert list(Resource.objects.values_list("kind").order_by("kind").distinct()) == [
        ("pre_op_bay",), ("procedure_room",), ("recovery_bay",)
    ]
    assert Resource.objects.filter(kind="procedure_room").count() == 2
    assert Surgeon.objects.count() == 2
    assert set(ProcedureType.objects.values_list("code", flat=True)) == {
        "vertebroplasty", "kyphoplasty"
    }
    for username in ["frontdesk", "nurse", "clinician", "admin"]:
        assert User.objects.get(username=username).groups.exists()
    assert "demo-frontdesk-2026" in capsys.readouterr().out
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"booked", "discharged"} <= statuses


@pytest.mark.parametrize(
    "model", ["site", "resource", "surgeon", "proceduretype", "drug", "patient", "case"]
)
def test_an_admin_can_open_each_configuration_page(unit, admin_client, model):
    assert admin_client.get(f"/admin/scheduling/{model}/").status_code == 200
    if model != "case":
        assert admin_client.get(f"/admin/scheduling/{model}/add/").status_code == 200


def test_a_manager_can_edit_a_procedure_type_with_its_stages_inline(unit, admin_client):
    procedure_type = ProcedureType.objects.get(code="vertebroplasty")
    page = admin_client.get(f"/admin/scheduling/proceduretype/{procedure_type.pk}/change/")
    assert page.status_code == 200
    assert b"stage_templates-0-base_minutes" in page.content


def test_cases_are_read_only_in_the_admin(unit, admin_client, front_desk):
    case = case_made(site=unit, by=front_desk.user)
    page = admin_client.get(f"/admin/scheduling/case/{case.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
