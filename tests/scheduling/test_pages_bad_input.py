"""Staff pages given a NUL byte, a megabyte or an odd digit anywhere they read input: a page with
a message or a 404, never a 500 (PostgreSQL refuses text with a NUL byte, so a raw value that
reaches a query fails there; run with DATABASE_URL=postgres://... to see it)."""

import pytest

from tests.scheduling.test_pages_booking import booking, shown_token

pytestmark = pytest.mark.django_db

ODD = ["Whit\x00field", "x" * 1_000_000, "²", "١٢", "9" * 5000]

PAGES = [
    ("/patients/", "q"),
    ("/day/", "site"),
    ("/day/", "date"),
    ("/board/", "site"),
    ("/board/", "date"),
    ("/board/", "refresh"),
    ("/board/partial/", "date"),
    ("/book/", "mrn"),
    ("/plan/", "date"),
    ("/reports/", "start"),
    ("/family/{odd}/", None),
]


@pytest.mark.parametrize("odd", ODD, ids=["NUL", "1 MB", "superscript two", "Arabic digits",
                                         "5000 digits"])
@pytest.mark.parametrize(("path", "parameter"), PAGES)
def test_a_page_given_an_odd_value_answers_without_a_server_error(
    staff_page, path, parameter, odd
):
    if parameter is None:
        response = staff_page.get(path.format(odd=odd))
    else:
        response = staff_page.get(path, {parameter: odd})

    assert response.status_code in (200, 302, 400, 404), response.status_code


@pytest.mark.parametrize("odd", ODD, ids=["NUL", "1 MB", "superscript two", "Arabic digits",
                                         "5000 digits"])
@pytest.mark.parametrize("field", ["last_name", "mrn", "phone", "find_mrn", "use_patient",
                                   "start", "date", "levels", "site", "override_reason"])
def test_the_booking_form_given_an_odd_value_answers_with_the_form(staff_page, field, odd):
    data = booking(shown_token(staff_page), **{field: odd})
    response = staff_page.post("/book/", data)

    assert response.status_code in (200, 302), response.status_code
