import re

import pytest

from scheduling import roles
from tests.conftest import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_staff_pages_need_a_login(client):
    response = client.get("/book/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_role_without_booking_rights_is_refused(client, unit):
    nurse = UserFactory(roles=[roles.NURSE])
    client.force_login(nurse)
    assert client.get("/book/").status_code == 403
    assert client.get("/").url == "/board/"  # a nurse starts on the day board


def test_an_admin_lands_on_a_home_that_leads_to_planning_reports_and_the_django_admin(client):
    manager = UserFactory(roles=[roles.ADMIN], is_staff=True)
    client.force_login(manager)
    response = client.get("/")
    assert response.status_code == 200
    links = [(href, text) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>',
                                                        response.content.decode())]
    for wanted in [("/plan/", "Plan the day"), ("/reports/", "Reports"),
                   ("/admin/", "Django admin")]:
        assert wanted in links


def test_a_clerk_logs_in_and_lands_on_booking(page, unit):
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    log_in(page, clerk.username)
    assert page.url.endswith("/book/")
    assert page.get_by_role("heading", name="Book a case").is_visible()


def test_a_wrong_password_is_told(page, unit):
    clerk = UserFactory(roles=[roles.FRONT_DESK])
    log_in(page, clerk.username, "wrong")
    assert page.get_by_role("alert").inner_text().startswith("Your username and password")
