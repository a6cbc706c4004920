"""The booking flow: one screen, the free times beside the form, booked, then the confirmation
page (POST/redirect/GET).

The free-times panel (day-load strip, first available, the day's starts) is drawn by the same
template whether the whole page is posted (Show free times, a day of the strip: it works without
JavaScript) or static/js/booking.js fetches it alone from `book_times`.

The pages call the scheduling services and write nothing themselves. Each form shown carries a
one-time token kept in the session: the first Book that succeeds consumes it, and a second
submit of the same form (a double click, a reload) is sent to the case the first one booked.
"""

import uuid
from datetime import date
from functools import wraps

import phonenumbers
from django.conf import settings
from django.conf.locale import LANG_INFO
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from audit.access import access_record
from notifications.languages import language_code
from notifications.links import patient_link

from .. import roles, selectors, services
from ..errors import SchedulingError
from ..models import Case, CaseStatus, Patient
from ..services.patients import allergies_add
from .access import role_required
from .forms import SCREENING_QUESTIONS, WHEN_FIELDS, BookingForm, add_service_errors
from .free_times import (
    SLOT_LOST,
    SLOT_LOST_MESSAGE,
    FreeTimes,
    day_loads,
    first_day_with_room,
    free_times_of,
)

SESSION_KEY = "booking_tokens"
TOKENS_KEPT = 20
RESUME_URL = "/book/?resume=1"  # the login page says why it is asked, booking.js restores
EXPIRED_MESSAGE = "This form had expired. Check the details and press Book again."
REVIEW_MESSAGE = (
    "Booked for a clinician's review: a screening answer blocks it. Its rooms are held until a "
    "clinician decides; tell the patient no time yet: they hear from us once it is approved."
)
IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth", "mrn", "phone", "email")


def kept_through_login(view):
    """A booking that arrives after the session ended (idle logout) goes to the login page with
    a way back that says so; the typed fields wait in the tab's sessionStorage (static/js/
    booking.js) and are put back after logging in. Nothing typed is kept on the server. The free
    times, asked by the script, answer 401 so the script can say the same."""

    @wraps(view)
    def kept(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.headers.get("X-Requested-With") == "booking.js":
                return HttpResponse(status=401)
            if request.method == "POST":
                return redirect_to_login(RESUME_URL)
        return view(request, *args, **kwargs)

    return kept


@kept_through_login
@role_required(*roles.BOOK_CASES)
def book(request):
    if request.method != "POST":
        asked = _patient_asked(request)
        initial = {
            "token": _token_new(request),
            "find_mrn": asked.mrn if asked else request.GET.get("mrn", "")[:40],
        }
        form = BookingForm(user=request.user, initial=initial)
        # Said at once ("Booking for ..."), with no empty registration beside it that looked as
        # if the patient still had to be found or typed in.
        form.patient = asked
        return _render(request, form)

    data = request.POST.copy()
    token = data.get("token", "")
    if case_id := _tokens(request)["done"].get(token):
        return redirect("case-confirmation", pk=case_id)
    action = data.get("action", "")
    booking = action == "book" and not data.get("show_date")
    if data.get("show_date"):
        data["date"] = data["show_date"]
        action = "slots"
    _reuse_patient(data, request.user)
    stale = token not in _tokens(request)["pending"]
    if stale:
        data["token"] = _token_new(request)

    form = BookingForm(data, user=request.user, booking=booking)
    valid = form.is_valid()
    if _patient_linked(request.user, form):
        # Linked to the site, the patient is found by MRN like any of its patients.
        _use_patient(data, form.patient)
        form = BookingForm(data, user=request.user, booking=booking)
        valid = form.is_valid()
    _patients_seen(request.user, form)
    if valid and booking and not stale:
        case = _book(request.user, form)
        if case is not None:
            _token_done(request, token, case.pk)
            return redirect("case-confirmation", pk=case.pk)
    if booking:
        if case_id := _booked_meanwhile(request, token):
            return redirect("case-confirmation", pk=case_id)
        if stale:
            form.add_error(None, EXPIRED_MESSAGE)
    else:
        if action == "slots":
            # Without the script, "Show free times" with no date picked opens the first day
            # with room, as the panel does; it used to answer "Enter the procedure date".
            form = _on_first_day_with_room(form, data, request.user)
        form.quiet_unasked(finding=action == "find")
    return _render(request, form, times=_free_times(form) if form.when_ready() else None)


@kept_through_login
@role_required(*roles.BOOK_CASES)
@require_http_methods(["GET", "POST"])
def book_times(request):
    """The free-times panel alone, for booking.js to put beside the form without a reload.
    Without a date: the first day with room for this case. The script POSTs the whole form (its
    screening answers are health data: never in an address), so the panel can say when the
    booking will go to a clinician's review; a GET with the when-fields alone also works."""
    data = (request.POST if request.method == "POST" else request.GET).copy()
    form = BookingForm(data, user=request.user)
    form.is_valid()
    form = _on_first_day_with_room(form, data, request.user)
    form.quiet_unasked(finding=False)
    times = _free_times(form) if form.when_ready() else None
    loads = times.loads if times else _loads_of(form)
    # Said in the panel itself: the page's error summary is not drawn again.
    when_errors = [
        f"{form[name].label}: {error}"
        for name in WHEN_FIELDS
        for error in form.errors.get(name, [])
    ]
    return render(request, "pages/_booking_times.html", {
        "form": form, "times": times, "loads": loads, "locale": form.locale,
        "when_errors": when_errors,
    })


def _on_first_day_with_room(form: BookingForm, data, user) -> BookingForm:
    """The form again with the first day with room for its case as the date, when no date was
    given and the rest of the case is known; else the form as it was."""
    if data.get("date") or not form.when_ready(date_needed=False):
        return form
    clean = form.cleaned_data
    first = first_day_with_room(
        site=clean["site"], procedure_type=clean["procedure_type"],
        levels=clean["levels"], surgeon=clean["surgeon"],
    )
    if first is None:
        return form
    data["date"] = first.isoformat()
    form = BookingForm(data, user=user, booking=form.booking)
    form.is_valid()
    return form


@role_required(*roles.READ_CASES)
def confirmation(request, pk: int):
    case = selectors.case_get(pk, request.user)
    if case is None:
        raise Http404("No such case.")
    if case.status == CaseStatus.NEEDS_REVIEW:
        # Nothing to hand the patient: they may be told no time until a clinician approves.
        messages.warning(request, REVIEW_MESSAGE)
        return redirect("case-detail", pk=case.pk)
    zone = case.site.zone
    today = timezone.now().astimezone(zone).date()
    stages = list(case.stages.all())
    # What the patient takes home is in their language; the notes for staff stay in English.
    language = language_code(case.patient.language)
    context = {
        "case": case,
        "patient_language": language,
        "patient_language_name": LANG_INFO[language]["name"],
        "holds": [
            (hold, _hold_late(hold.hold_starts_on, today)) for hold in case.held_medications.all()
        ],
        "ready_to_leave": stages[-1].planned_end if stages else None,
        "patient_link": patient_link(case),
        "site_phone": _readable_phone(case.site.phone),
        "driver_phone": _readable_phone(case.driver_phone),
    }
    with timezone.override(zone):
        return render(request, "pages/confirmation.html", context)


def _hold_late(starts_on: date, today: date) -> str:
    """A hold that should already have begun (booked at short notice) is pointed out."""
    if starts_on > today:
        return ""
    return "today" if starts_on == today else "passed"


def _book(user, form: BookingForm) -> Case | None:
    """The patient (when new) and the case, together or not at all."""
    data = form.cleaned_data
    try:
        with transaction.atomic():
            patient = form.patient or services.patient_create(**form.registration())
            if form.patient is not None:
                allergies_add(patient=patient, allergies=form.allergies(), by=user)
            return services.case_book(
                site=data["site"],
                procedure_type=data["procedure_type"],
                levels=data["levels"],
                day=data["date"],
                start=data["start"],
                patient=patient,
                screening=form.screening_answers(),
                surgeon=data["surgeon"],
                medications=form.drugs(),
                takes_no_medicines=bool(data.get("no_medicines")),
                other_medicines=data.get("other_medicines", ""),
                driver_name=data["driver_name"].strip(),
                driver_phone=data["driver_phone"],
                override_reason=form.override_for_service(),
                request_review=form.review,
                unit_will_call=data["unit_will_call"],
                booked_by=user,
            )
    except SchedulingError as error:
        if error.code in SLOT_LOST:
            form.slot_lost = True
            form.add_error("start", SLOT_LOST_MESSAGE)
        else:
            add_service_errors(form, error)
        return None


def _patient_asked(request) -> Patient | None:
    """The patient `?patient=<id>` names ("Book for this patient" on their record or in search
    results), if the user may see them."""
    pk = request.GET.get("patient", "")
    if not (pk.isascii() and pk.isdigit() and len(pk) < 19):
        return None
    return selectors.patient_get(int(pk), request.user)


def _reuse_patient(data, user) -> None:
    """"Use this patient" on a duplicate: book for them, found by MRN from now on."""
    pk = data.get("use_patient", "")
    if not (pk.isascii() and pk.isdigit() and len(pk) < 19):  # "²" is a digit int() refuses
        return
    patient = selectors.patient_get(int(pk), user)
    if patient is not None:
        _use_patient(data, patient)


def _use_patient(data, patient) -> None:
    data["find_mrn"] = patient.mrn
    data["register_anyway"] = ""
    for name in IDENTITY_FIELDS:
        data[name] = ""


def _patient_linked(user, form: BookingForm) -> bool:
    """A patient of another site proven by MRN, date of birth and last name is linked to the
    site chosen on the form (without a site, nothing of theirs is shown yet)."""
    site = form.cleaned_data.get("site")
    if form.known_elsewhere is None:
        return False
    if site is None:
        form.patient = None
        return False
    services.patient_site_link(patient=form.known_elsewhere, site=site, by=user)
    return True


def _patients_seen(user, form: BookingForm) -> None:
    """Each registered patient the page is about to show is a record access."""
    site = form.cleaned_data.get("site")
    for patient in [form.patient, *form.duplicates, *form.found]:
        if patient is not None:
            access_record(
                user=user, what="book", patient_id=patient.pk,
                site_id=site.pk if site is not None else None,
            )


def _free_times(form: BookingForm) -> FreeTimes:
    chosen = "" if form.slot_lost else form.data.get("start", "")
    return free_times_of(form.cleaned_data, chosen=chosen)


def _loads_of(form: BookingForm) -> list:
    """The strip before a date is picked: the chosen site's (or the only one's) next days."""
    site = form.sites.get(form.data.get("site") or form.initial.get("site") or "")
    if site is None and len(form.sites) == 1:
        site = next(iter(form.sites.values()))
    return day_loads(site) if site is not None else []


def _readable_phone(e164: str) -> str:
    """A number as it is read aloud: national form at home, international otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.region_code_for_number(number) == getattr(settings, "PHONE_REGION", "US")
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(number, style.NATIONAL if home else style.INTERNATIONAL)


def _render(request, form: BookingForm, times: FreeTimes | None = None):
    context = {
        "form": form,
        "times": times,
        "loads": times.loads if times else _loads_of(form),
        "locale": form.locale,
        "resumed": request.GET.get("resume") == "1",
        "screening_fields": [form[name] for name in SCREENING_QUESTIONS]
        + [form["conservative_treatment_weeks"]],
        "registration_fields": [form[name] for name in IDENTITY_FIELDS]
        + [form["preferred_channel"], form["language"]],
    }
    return render(request, "pages/book.html", context)


def _tokens(request) -> dict:
    return request.session.get(SESSION_KEY) or {"pending": [], "done": {}}


def _token_new(request) -> str:
    state = _tokens(request)
    token = uuid.uuid4().hex
    state["pending"] = [*state["pending"], token][-TOKENS_KEPT:]
    request.session[SESSION_KEY] = state
    return token


def _token_done(request, token: str, case_id: int) -> None:
    state = _tokens(request)
    state["pending"] = [pending for pending in state["pending"] if pending != token]
    done = {**state["done"], token: case_id}
    state["done"] = dict(list(done.items())[-TOKENS_KEPT:])
    request.session[SESSION_KEY] = state


def _booked_meanwhile(request, token: str) -> int | None:
    """A second submit that ran alongside the first: this request read the session before the
    first one consumed the token, so read it again from the store (the case itself is kept
    single by the database: one MRN, one active case per patient and day)."""
    key = request.session.session_key
    if not key:
        return None
    fresh = type(request.session)(key).get(SESSION_KEY) or {}
    return fresh.get("done", {}).get(token)
