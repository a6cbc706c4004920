"""The patient's record (contact details, language, channel, allergies, their cases at the
user's sites) with its edit form, and the correction of a case's screening answers and medicines
until check-in.

A patient the user may not see (selectors.patients_visible, the one rule) is not found; a case
of another site too. Changes go through the services, which re-plan the messages they touch.
"""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.access import access_record

from .. import roles, selectors
from ..errors import SchedulingError
from ..services.case_corrections import case_corrections_allowed, case_screening_correct
from ..services.patients import EDITABLE_FIELDS, patient_update
from .access import role_required
from .cases import _case_or_404, _case_page, _stale
from .forms import LANGUAGES, add_service_errors
from .patient_forms import CorrectionForm, PatientForm

FIELD_WORDS = {
    "phone": "phone", "email": "email", "preferred_channel": "channel for messages",
    "language": "language", "allergy_contrast": "contrast allergy",
    "allergy_latex": "latex allergy", "allergy_other": "other allergies",
}


@role_required(*roles.READ_CASES)
def patient_record(request, pk: int):
    record = selectors.patient_record_get(pk, request.user)
    if record is None:
        raise Http404("No such patient.")
    can_edit = roles.user_has_role(request.user, roles.EDIT_PATIENTS)
    form = PatientForm.of(record.patient)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = PatientForm.of(record.patient, request.POST)
        if form.is_valid():
            changed = _update(request, record.patient, form)
            if changed is not None:
                return redirect("patient-record", pk=pk)
    access_record(user=request.user, what="patient-record", patient_id=record.patient.pk)
    context = {
        "record": record,
        "patient": record.patient,
        "form": form,
        "can_edit": can_edit,
        "can_book": roles.user_has_role(request.user, roles.BOOK_CASES),
        "language_name": dict(LANGUAGES).get(record.patient.language, record.patient.language),
    }
    # Times in the zone and locale of the patient's latest case here (else of one of the user's
    # sites).
    site = record.cases[0].site if record.cases else selectors.visible_sites(request.user).first()
    context["site"] = site
    with timezone.override(site.zone if site is not None else timezone.get_current_timezone()):
        return render(request, "pages/patient_record.html", context)


def _update(request, patient, form: PatientForm) -> list[str] | None:
    """Save the form through the service; None when it refused (its error is on the form)."""
    try:
        changed = patient_update(
            patient=patient, by=request.user,
            **{name: form.cleaned_data[name] for name in EDITABLE_FIELDS},
        )
    except SchedulingError as error:
        add_service_errors(form, error)
        return None
    if changed:
        said = ", ".join(FIELD_WORDS[name] for name in changed)
        replanned = " Unsent messages are re-planned." if {
            "phone", "email", "preferred_channel", "language"
        } & set(changed) else ""
        messages.success(request, f"Saved: {said}.{replanned}")
    else:
        messages.info(request, "Nothing was changed.")
    return changed


@role_required(*roles.BOOK_CASES)
@require_POST
def case_correct(request, pk: int):
    case = _case_or_404(pk, request.user)
    if not case_corrections_allowed(case):
        # The form is not shown after check-in; a POST from a page opened before it is told
        # why nothing changed, on the case page as it is now.
        messages.error(
            request,
            f"The case is {case.get_status_display().lower()}: screening answers and medicines "
            "can no longer be corrected here. Nothing was changed.",
        )
        response = _case_page(request, case)
        response.status_code = 409
        return response
    form = CorrectionForm(request.POST, case=case, user=request.user)
    if form.is_stale():
        return _stale(request, case)
    if not form.is_valid():
        return _case_page(request, case, correction_form=form)
    try:
        drugs = form.drugs()
    except SchedulingError as error:
        add_service_errors(form, error)
        return _case_page(request, case, correction_form=form)
    correct = partial(
        case_screening_correct, case=case, by=request.user,
        screening=form.screening_answers(), medications=drugs,
        takes_no_medicines=form.cleaned_data["no_medicines"],
        other_medicines=form.cleaned_data["other_medicines"],
        override_reason=form.override_for_service(),
    )
    held_before = set(case.held_medications.values_list("drug_id", flat=True))
    try:
        changes = correct(expected_version=form.shown_version)
    except SchedulingError as error:
        if error.code == "case_changed":
            return _stale(request, case)
        if error.errors:
            form.add_error(None, error.detail)  # the whole refusal, and each answer below
        add_service_errors(form, error)
        return _case_page(request, case, correction_form=form)
    if changes:
        messages.success(request, "Corrected: " + "; ".join(changes) + ". Messages re-planned.")
        _warn_late_holds(request, case, held_before)
    else:
        messages.info(request, "Nothing was changed.")
    return redirect("case-detail", pk=case.pk)


def _warn_late_holds(request, case, held_before: set[int]) -> None:
    """A drug added at short notice whose pause should already have begun: the patient took it
    on days they should not have, so the hold is shorter than planned and a clinician decides
    (as the booking confirmation says). The case page's "already stopped" assumes otherwise."""
    today = timezone.localdate(timezone.now(), case.site.zone)
    for hold in case.held_medications.select_related("drug").exclude(drug_id__in=held_before):
        if hold.hold_starts_on <= today:
            messages.warning(
                request,
                f"{hold.drug.name}: its pause should already have begun. The hold is shorter "
                "than planned: tell the clinician.",
            )
