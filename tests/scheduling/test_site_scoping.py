"""Staff see only the cases of the sites they work at; another site's case is a 404."""

import pytest

from notifications.models import Reminder
from scheduling import roles
from scheduling.models import Site
from tests.conftest import build_unit, case_payload, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(unit):
    north = build_unit(code="north", name="North Clinic")
    return unit, north


def test_another_sites_case_is_not_found(two_sites):
    main, north = two_sites
    main_clerk = client_for(roles.FRONT_DESK, sites=[main])
    north_clerk = client_for(roles.FRONT_DESK, sites=[north])
    case = main_clerk.post("/api/v1/cases/", case_payload(), format="json").json()

    for url in [f"/api/v1/cases/{case['id']}/", f"/api/v1/cases/{case['id']}/messages/"]:
        assert north_clerk.get(url).status_code == 404
        assert main_clerk.get(url).status_code == 200
    cancel = north_clerk.post(f"/api/v1/cases/{case['id']}/cancel/", {"reason": "x"},
                              format="json")
    assert cancel.status_code == 404
    reminder = Reminder.objects.filter(case_id=case["id"]).first()
    assert north_clerk.post(f"/api/v1/messages/{reminder.pk}/resend/").status_code == 404


def test_a_clerk_books_and_lists_only_at_their_sites(two_sites):
    main, north = two_sites
    north_clerk = client_for(roles.FRONT_DESK, sites=[north])
    refused = north_clerk.post("/api/v1/cases/", case_payload(site="main"), format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "unknown_site"
    listed = north_clerk.get("/api/v1/cases/", {"site": "main"})
    assert listed.json()["code"] == "unknown_site"
    assert [s["code"] for s in north_clerk.get("/api/v1/sites/").json()] == ["north"]


def test_a_user_at_no_site_sees_nothing(unit):
    nobody = client_for(roles.NURSE, sites=[])
    assert nobody.get("/api/v1/sites/").json() == []
    assert Site.objects.count() == 1
