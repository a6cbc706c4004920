import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command

from scheduling import roles
from scheduling.bedside_models import ChecklistItem
from scheduling.models import Case, Drug, ProcedureType, Resource, Site, StageTemplate, Surgeon
from tests.factories import SiteFactory, UserFactory, case_made, case_tracked

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


READ_ONLY = ["case", "vitalsigns", "dischargeassessment"]


@pytest.mark.parametrize(
    "model",
    ["site", "resource", "surgeon", "proceduretype", "drug", "patient", "checklistitem",
     *READ_ONLY],
)
def test_an_admin_can_open_each_configuration_page(unit, admin_client, model):
    assert admin_client.get(f"/admin/scheduling/{model}/").status_code == 200
    add = admin_client.get(f"/admin/scheduling/{model}/add/")
    assert add.status_code == (403 if model in READ_ONLY else 200)


def test_a_manager_can_edit_a_procedure_type_with_its_stages_inline(unit, admin_client):
    procedure_type = ProcedureType.objects.get(code="vertebroplasty")
    page = admin_client.get(f"/admin/scheduling/proceduretype/{procedure_type.pk}/change/")
    assert page.status_code == 200
    assert b"stage_templates-0-base_minutes" in page.content
    assert b'name="stage_templates-2-minimum_minutes" value="60"' in page.content  # cement set


def test_the_sites_nursing_rules_and_alert_limits_are_set_in_the_admin(unit, admin_client):
    page = admin_client.get(f"/admin/scheduling/site/{unit.pk}/change/").content.decode()
    assert "Nursing rules" in page
    assert "Vitals alert limits" in page
    nursing, alerts = page.index("Nursing rules"), page.index("Vitals alert limits")
    for field in ["inr_limit", "recovery_minimum_minutes", "discharge_score_minimum"]:
        assert nursing < page.index(f'name="{field}"') < alerts
    for field in ["systolic_alert_low", "spo2_alert_low", "resp_rate_alert_high"]:
        assert page.index(f'name="{field}"') > alerts
    assert 'name="spo2_alert_low" value="92"' in page


def test_a_manager_adds_a_checklist_item_for_one_procedure_type(unit, admin_client):
    listing = admin_client.get("/admin/scheduling/checklistitem/").content.decode()
    assert "Consent signed" in listing
    assert "Pre-op vitals recorded" in listing
    vertebroplasty = ProcedureType.objects.get(code="vertebroplasty")
    response = admin_client.post("/admin/scheduling/checklistitem/add/", {
        "site": unit.pk, "procedure_type": vertebroplasty.pk, "code": "allergy_band",
        "label": "Allergy band on", "position": 3, "active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    item = ChecklistItem.objects.get(code="allergy_band")
    assert (item.site, item.procedure_type, item.position) == (unit, vertebroplasty, 3)


def test_the_checklist_admin_shows_only_ones_own_sites_items(unit, client):
    north = SiteFactory(code="north", name="North Clinic")
    ChecklistItem.objects.create(site=north, code="north_only", label="North's own item")
    manager = UserFactory(is_staff=True, roles=[roles.ADMIN], sites=[unit])
    for action in ["view", "change"]:
        manager.user_permissions.add(Permission.objects.get(codename=f"{action}_checklistitem"))
    client.force_login(manager)
    listing = client.get("/admin/scheduling/checklistitem/").content.decode()
    assert "Consent signed" in listing
    assert "North&#x27;s own item" not in listing
    assert "North's own item" not in listing
    theirs = ChecklistItem.objects.get(code="north_only")
    assert client.get(f"/admin/scheduling/checklistitem/{theirs.pk}/change/").status_code == 302
    add = client.get("/admin/scheduling/checklistitem/add/").content.decode()
    assert "North Clinic" not in add


def test_vitals_and_scores_are_read_only_in_the_admin(unit, admin_client):
    case = case_tracked(site=unit, through="discharged")
    for model in ["vitalsigns", "dischargeassessment"]:
        listing = admin_client.get(f"/admin/scheduling/{model}/")
        assert listing.status_code == 200
        row = {"vitalsigns": case.vitals, "dischargeassessment": case.assessments}[model].first()
        page = admin_client.get(f"/admin/scheduling/{model}/{row.pk}/change/")
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
    page = admin_client.get(f"/admin/scheduling/case/{case.pk}/change/").content.decode()
    assert "Discharge assessments" in page
    assert "Vital signs" in page
    assert 'name="vitals-0-systolic"' not in page  # shown, not editable


def test_cases_are_read_only_in_the_admin(unit, admin_client, front_desk):
    case = case_made(site=unit, by=front_desk.user)
    page = admin_client.get(f"/admin/scheduling/case/{case.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
