"""The booking form: patient, screening, held medicines, driver and when, checked as the services
will check them, so the clerk sees every problem next to its field before anything is written.

The services stay the last word: an error they raise (a slot taken meanwhile, a constraint) is
put back on the field it names with `add_service_errors`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from django import forms
from django.conf import settings
from django.conf.locale import LANG_INFO
from django.db.models import Q

from .. import roles, selectors
from ..errors import SchedulingError
from ..models import Channel, Drug, Patient, ProcedureType, Surgeon
from ..screening import ScreeningAnswers, screening_blockers
from ..services.booking import check_day, check_levels
from ..services.patients import date_of_birth_check, patient_known_elsewhere, phone_e164
from ..timing import DEFAULT_LOCALE, date_text, date_typed, spelled
from .booking_find import patients_found

# The languages patients can read (settings.LANGUAGES), named for the clerk: "Spanish (español)".
LANGUAGES = [
    (code, name if LANG_INFO[code]["name"] == name else f"{LANG_INFO[code]['name']} ({name})")
    for code, name in settings.LANGUAGES
]
YES_NO = [("yes", "Yes"), ("no", "No")]
REGISTRATION = [
    "first_name", "last_name", "date_of_birth", "mrn", "phone", "email", "preferred_channel",
    "language",
]
REQUIRED_TO_REGISTER = {
    "first_name": "Enter the patient's first name.",
    "last_name": "Enter the patient's last name.",
    "date_of_birth": "Enter the patient's date of birth.",
    "mrn": "Enter the patient's MRN.",
}
# The screening questions, asked so that "yes" is the answer to worry about except where the
# clinic's own wording asks the other way round (painful fracture, imaging on file).
SCREENING_QUESTIONS = {
    "active_infection": "Does the patient have an active infection (fever, urine, skin, chest)?",
    "fracture_painful": "Is the fracture painful?",
    "bleeding_disorder": "Does the patient have an uncontrolled bleeding disorder?",
    "tumor_in_canal": "Has a tumour spread into the spinal canal?",
    "cement_allergy": "Is the patient allergic to bone cement?",
    "traumatic": "Was the fracture caused by an injury (traumatic)?",
    "imaging_on_file": "Is the pre-op imaging on file?",
}
# The fields the free times depend on; their errors show whichever button was pressed.
WHEN_FIELDS = ("site", "procedure_type", "levels", "surgeon", "date")
# Where an error the services raise belongs on this form.
SERVICE_FIELDS = {
    "driver.phone": "driver_phone", "driver.name": "driver_name", "patient_id": "find_mrn"
}


def _yes_no(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Answer yes or no."},
    )


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BookingForm(forms.Form):
    """One booking. `booking=True` when the clerk pressed Book: a free time must be chosen."""

    use_required_attribute = False  # every message comes from the server, next to its field

    token = forms.CharField(required=False, widget=forms.HiddenInput)

    find_mrn = forms.CharField(
        label="Find a registered patient",
        required=False,
        max_length=80,
        help_text="MRN, last name (“Whitfield, Margaret”) or date of birth. Leave empty to "
        "register a new patient below.",
    )
    register_anyway = forms.BooleanField(
        label="None of these: register a new patient (a different person)", required=False
    )
    first_name = forms.CharField(label="First name", required=False, max_length=80)
    last_name = forms.CharField(label="Last name", required=False, max_length=80)
    date_of_birth = forms.CharField(label="Date of birth", required=False, max_length=20)
    mrn = forms.CharField(label="MRN", required=False, max_length=40)
    phone = forms.CharField(
        label="Mobile phone",
        required=False,
        max_length=32,
        help_text="Optional. For text messages; without a country code it is read as a US number.",
    )
    email = forms.EmailField(label="Email address", required=False, help_text="Optional.")
    preferred_channel = forms.ChoiceField(
        label="Send messages by",
        choices=[(Channel.SMS, "Text message (SMS)"), (Channel.EMAIL, "Email")],
        initial=Channel.SMS,
        widget=forms.RadioSelect,
        required=False,
    )
    language = forms.ChoiceField(
        label="Language for messages", choices=LANGUAGES, initial="en", required=False
    )

    active_infection = _yes_no(SCREENING_QUESTIONS["active_infection"])
    fracture_painful = _yes_no(SCREENING_QUESTIONS["fracture_painful"])
    bleeding_disorder = _yes_no(SCREENING_QUESTIONS["bleeding_disorder"])
    tumor_in_canal = _yes_no(SCREENING_QUESTIONS["tumor_in_canal"])
    cement_allergy = _yes_no(SCREENING_QUESTIONS["cement_allergy"])
    traumatic = _yes_no(SCREENING_QUESTIONS["traumatic"])
    conservative_treatment_weeks = forms.IntegerField(
        label="Weeks of conservative treatment tried (rest, pain relief, brace)",
        min_value=0,
        max_value=520,
        error_messages={"required": "Enter the number of weeks (0 if none)."},
    )
    imaging_on_file = _yes_no(SCREENING_QUESTIONS["imaging_on_file"])

    medications = forms.MultipleChoiceField(
        label="Medicines to hold before the procedure",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick each one the patient takes, or “Takes none of these”; the day it stops "
        "is worked out from the procedure date.",
        error_messages={"invalid_choice": "“%(value)s” is not in the medication table."},
    )
    no_medicines = forms.BooleanField(label="Takes none of these", required=False)
    other_medicines = forms.CharField(
        label="Other medicines",
        required=False,
        max_length=500,
        help_text="Optional. Anything else the patient takes, as they tell it.",
    )
    allergy_contrast = forms.BooleanField(label="Contrast (dye)", required=False)
    allergy_latex = forms.BooleanField(label="Latex", required=False)
    allergy_other = forms.CharField(
        label="Other allergies", required=False, max_length=240, help_text="Optional."
    )

    driver_name = forms.CharField(
        label="Driver's name",
        required=False,
        max_length=120,
        help_text="Optional. The adult who takes the patient home; can be added later.",
    )
    driver_phone = forms.CharField(
        label="Driver's phone", required=False, max_length=32, help_text="Optional."
    )

    site = forms.ChoiceField(label="Site", error_messages={"required": "Choose the site."})
    procedure_type = forms.ChoiceField(
        label="Procedure", error_messages={"required": "Choose the procedure."}
    )
    levels = forms.IntegerField(
        label="Vertebral levels",
        initial=1,
        error_messages={"required": "Enter the number of levels.", "invalid": "Enter a number."},
    )
    surgeon = forms.ChoiceField(label="Surgeon", required=False, help_text="Optional.")
    date = forms.DateField(
        label="Procedure date",
        widget=_date_input(),
        error_messages={"required": "Enter the procedure date."},
    )
    override_reason = forms.CharField(
        label="Screening override: reason",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only when a screening answer blocks the booking. Recorded on the case with "
        "your name.",
    )
    start = forms.CharField(label="Free time", required=False, max_length=40)
    unit_will_call = forms.BooleanField(
        label="The unit will call this patient",
        required=False,
        help_text="Needed when the patient has no mobile phone (messages by text) or no email "
        "(messages by email): no reminder would reach them, so the front desk calls them the "
        "day before.",
    )

    def __init__(self, *args, user, booking: bool = False, **kwargs) -> None:
        super().__init__(*args, label_suffix="", **kwargs)
        self.user = user
        self.booking = booking
        self.patient: Patient | None = None  # a registered patient to book for
        # A patient of another site whose MRN, date of birth and last name were typed: booked
        # here once linked to the site.
        self.known_elsewhere: Patient | None = None
        self.duplicates: list[Patient] = []  # registered patients that match the new one
        self.duplicate_mrn = False  # one of them has the MRN typed: it cannot be registered twice
        self.found: list[Patient] = []  # registered patients the finder matched by name or birth
        self.blockers = []
        self.slot_lost = False  # the chosen time was taken by another booking
        # A front-desk booking that a screening answer blocks goes to a clinician for review.
        self.review = False
        self.can_override = roles.user_has_role(user, roles.OVERRIDE_SCREENING)
        if not self.can_override:
            del self.fields["override_reason"]

        self.sites = {site.code: site for site in selectors.visible_sites(user)}
        self.fields["site"].choices = [(code, site.name) for code, site in self.sites.items()]
        types = ProcedureType.objects.filter(active=True, stage_templates__isnull=False).distinct()
        self.fields["procedure_type"].choices = [(t.code, t.name) for t in types]
        surgeons = Surgeon.objects.filter(active=True, sites__in=self.sites.values()).distinct()
        self.fields["surgeon"].choices = [("", "Any surgeon free at that time")] + [
            (surgeon.code, surgeon.name) for surgeon in surgeons
        ]
        self.fields["medications"].choices = [
            (drug.code, _drug_label(drug)) for drug in Drug.objects.filter(active=True)
        ]
        for name in ("site", "procedure_type"):
            if len(self.fields[name].choices) == 1:
                self.fields[name].initial = self.fields[name].choices[0][0]
        usual = selectors.procedure_type_usual(sites=list(self.sites.values()))
        if usual is not None:
            self.fields["procedure_type"].initial = usual.code
        chosen = self.sites.get(self.data.get("site", "")) if self.is_bound else None
        site = chosen or next(iter(self.sites.values()), None)
        self.locale = site.locale if site is not None else DEFAULT_LOCALE
        self._speak_locale()

    def _speak_locale(self) -> None:
        """Labels in the site's spelling; the date of birth typed the site's way."""
        for field in self.fields.values():
            if isinstance(field.label, str):
                field.label = spelled(field.label, locale=self.locale)
        typed = date_text(date(1944, 3, 17), locale=self.locale, style="short")
        example = typed.replace("03", "MM", 1).replace("17", "DD").replace("1944", "YYYY")
        self.date_of_birth_format = example
        self.fields["date_of_birth"].help_text = f"As {example}, e.g. {typed}."
        self.fields["date_of_birth"].widget.attrs.update(
            {"placeholder": example, "autocomplete": "off", "inputmode": "numeric"}
        )

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data["phone"])

    def clean_driver_phone(self) -> str:
        return _phone(self.cleaned_data["driver_phone"])

    def clean_date_of_birth(self) -> date | None:
        typed = self.cleaned_data["date_of_birth"].strip()
        if not typed:
            return None
        born = date_typed(typed, locale=self.locale)
        if born is None:
            raise forms.ValidationError(
                f"Enter the date of birth as {self.date_of_birth_format}."
            )
        if born is not None:
            try:
                date_of_birth_check(date_of_birth=born, field="date_of_birth")
            except SchedulingError as error:
                raise forms.ValidationError(error.detail) from None
        return born

    def clean_start(self) -> datetime | None:
        raw = self.cleaned_data["start"]
        if not raw:
            return None
        try:
            start = datetime.fromisoformat(raw)
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise forms.ValidationError("Choose one of the free times below.")
        return start

    def clean(self) -> dict:
        data = super().clean()
        self._clean_patient(data)
        self._clean_when(data)
        self._clean_screening(data)
        self._clean_medicines(data)
        self._clean_reach(data)
        if self.booking and not data.get("start") and "start" not in self.errors:
            self.add_error("start", "Choose one of the free times below.")
        return data

    def _clean_patient(self, data: dict) -> None:
        mrn = data.get("find_mrn", "").strip()
        if mrn:
            # What is typed under "register" is not used: its mistakes do not stop the booking.
            for name in REGISTRATION:
                self.errors.pop(name, None)
            mine = selectors.patients_visible(self.user)
            self.patient = (
                mine.filter(mrn=mrn).first()
                or mine.filter(mrn__iexact=mrn).order_by("pk").first()
            )
            if self.patient is None:
                self.found = patients_found(mine, mrn, locale=self.locale)
            if self.found:
                if self.booking:
                    self.add_error("find_mrn", "Choose the patient (Use this patient), then Book.")
                return
            if self.patient is None:
                # The same words whether or not another site knows the MRN.
                self.add_error(
                    "find_mrn",
                    f"No patient of your sites has the MRN “{mrn}”. Check it, or leave it empty "
                    "and register the patient below. A patient seen at another of our sites is "
                    "found when the MRN, date of birth and last name all match their record.",
                )
            return
        for name, message in REQUIRED_TO_REGISTER.items():
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        wants_email = data.get("preferred_channel") == Channel.EMAIL
        if wants_email and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter an email address to send messages by email.")
        if any(name in self.errors for name in REQUIRED_TO_REGISTER):
            return
        self.known_elsewhere = patient_known_elsewhere(
            mrn=data["mrn"],
            date_of_birth=data["date_of_birth"],
            last_name=data["last_name"],
            user=self.user,
        )
        if self.known_elsewhere is not None:
            self.patient = self.known_elsewhere
            return
        matches = selectors.patients_visible(self.user).filter(
            Q(mrn__iexact=data["mrn"])
            | Q(
                first_name__iexact=data["first_name"],
                last_name__iexact=data["last_name"],
                date_of_birth=data["date_of_birth"],
            )
        ).order_by("pk")[:5]
        self.duplicates = list(matches)
        self.duplicate_mrn = any(p.mrn.lower() == data["mrn"].lower() for p in self.duplicates)
        if self.duplicate_mrn:
            self.add_error(
                "mrn",
                f"The MRN {data['mrn']} is already registered. Use the registered patient "
                "shown above, or check the MRN.",
            )
        elif Patient.objects.filter(mrn__iexact=data["mrn"]).exists():
            # Held at a site this user does not work at, and the proof did not match: say no
            # more than that the MRN cannot be used.
            self.add_error(
                "mrn",
                f"The MRN {data['mrn']} cannot be registered again. If the patient was seen at "
                "another of our sites, check their date of birth and last name: all three must "
                "match the record. Otherwise check the MRN.",
            )
        elif self.duplicates and not data.get("register_anyway"):
            self.add_error(
                "last_name",
                "A patient with this name and date of birth is already registered. Use them "
                "(shown above), or tick “None of these” to register a different person.",
            )

    def _clean_when(self, data: dict) -> None:
        """Site, procedure, levels, surgeon and date, checked as the booking service checks them."""
        site = self.sites.get(data.get("site"))
        data["site"] = site
        code = data.get("procedure_type")
        data["procedure_type"] = (
            self._service_call(selectors.procedure_type_get, code) if code else None
        ) or None
        surgeon_code = data.get("surgeon")
        data["surgeon"] = None
        if site is None:
            return
        if surgeon_code:
            data["surgeon"] = (
                self._service_call(selectors.surgeon_get, surgeon_code, site) or None
            )
        if data["procedure_type"] and data.get("levels") is not None:
            self._service_call(check_levels, data["procedure_type"], data["levels"])
        day = data.get("date")
        if (
            day is not None
            and self._service_call(check_day, site, day) is None
            and (why := selectors.site_closed_why(site=site, day=day)) is not None
        ):
            because = f" ({why})" if why else ""
            self.add_error(
                "date", f"{site.name} is closed on {date_text(day, locale=self.locale)}{because}."
            )

    def _clean_screening(self, data: dict) -> None:
        names = [*SCREENING_QUESTIONS, "conservative_treatment_weeks"]
        if data.get("site") is None or any(data.get(name) is None for name in names):
            return
        self.blockers = [
            replace(blocker, reason=spelled(blocker.reason, locale=self.locale))
            for blocker in screening_blockers(
                self.screening_answers(),
                min_conservative_weeks=data["site"].conservative_treatment_min_weeks,
            )
        ]
        if self.can_override:
            if self.booking and self.blockers and not data.get("override_reason", "").strip():
                self.add_error(
                    "override_reason",
                    "Write why the case goes ahead despite the screening answers.",
                )
            return
        self.review = bool(self.blockers)

    def _clean_reach(self, data: dict) -> None:
        """A patient nothing would reach is booked only with the unit's word that it will call
        them (Patient.unreachable, the rule the booking service applies)."""
        patient = self.patient or Patient(
            phone=data.get("phone") or "", email=data.get("email") or "",
            preferred_channel=data.get("preferred_channel") or Channel.SMS,
        )
        if self.booking and patient.unreachable and not data.get("unit_will_call"):
            self.add_error(
                "unit_will_call",
                "No reminder would reach this patient: add their phone or email, or tick "
                "“The unit will call this patient”.",
            )

    def _clean_medicines(self, data: dict) -> None:
        """The clerk answers the medicines question: the ones the patient takes, or none."""
        if "medications" in self.errors:
            return
        ticked = bool(data.get("medications"))
        if ticked and data.get("no_medicines"):
            self.add_error(
                "medications",
                "Tick either the medicines the patient takes or “Takes none of these”, not both.",
            )
        elif not ticked and not data.get("no_medicines"):
            self.add_error(
                "medications",
                "Ask about these medicines: tick each one the patient takes, or “Takes none of "
                "these”.",
            )

    def allergies(self) -> dict:
        data = self.cleaned_data
        return {
            "allergy_contrast": bool(data.get("allergy_contrast")),
            "allergy_latex": bool(data.get("allergy_latex")),
            "allergy_other": data.get("allergy_other", "").strip(),
        }

    def _service_call(self, check, *args):
        """Run a selector or check; a SchedulingError becomes an error on its field (-> False)."""
        try:
            return check(*args)
        except SchedulingError as error:
            add_service_errors(self, error)
            return False

    def screening_answers(self) -> ScreeningAnswers:
        data = self.cleaned_data
        return ScreeningAnswers(
            **{name: data[name] for name in SCREENING_QUESTIONS},
            conservative_treatment_weeks=data["conservative_treatment_weeks"],
        )

    def override_for_service(self) -> str | None:
        """What the service is given: a reason only when a clinician overrides a blocker."""
        if not (self.can_override and self.blockers):
            return None
        return self.cleaned_data.get("override_reason", "")

    def registration(self) -> dict:
        data = self.cleaned_data
        return {
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "date_of_birth": data["date_of_birth"],
            "mrn": data["mrn"].strip(),
            "phone": data["phone"],
            "email": data["email"],
            "preferred_channel": data["preferred_channel"] or Channel.SMS,
            "language": data["language"] or "en",
            **self.allergies(),
        }

    def drugs(self) -> list[Drug]:
        return selectors.drugs_get(self.cleaned_data.get("medications", []))

    def when_ready(self, *, date_needed: bool = True) -> bool:
        """Site, procedure, levels, surgeon and date are all good: free times can be shown."""
        names = ("site", "procedure_type", "levels", "surgeon", *(("date",) * date_needed))
        needed = ("site", "procedure_type", *(("date",) * date_needed))
        return not any(name in self.errors for name in names) and all(
            self.cleaned_data.get(name) for name in needed
        )

    def quiet_unasked(self, *, finding: bool) -> None:
        """Find, Show free times and a day of the strip are not Book: what the clerk has not
        typed yet is not an error. Finding a patient speaks of the finder alone."""
        for name in list(self.errors):
            asked = name == "find_mrn" or (
                not finding and (name in WHEN_FIELDS or self.data.get(name, "") != "")
            )
            if not asked:
                del self.errors[name]


def add_service_errors(form: forms.Form, error: SchedulingError) -> None:
    """Put a service's errors next to the fields they name ("patient.phone" -> "phone")."""
    if not error.errors:
        form.add_error(None, error.detail)
    for key, messages in error.errors.items():
        name = SERVICE_FIELDS.get(key, key.split(".", 1)[-1])
        field = name if name in form.fields else None
        for message in messages:
            if field is None or field not in form.errors or message not in form.errors[field]:
                form.add_error(field, message)


def _phone(raw: str) -> str:
    if not raw.strip():
        return ""
    try:
        return phone_e164(raw, field="phone")
    except SchedulingError as error:
        raise forms.ValidationError(error.detail) from None


def _drug_label(drug: Drug) -> str:
    held = f"{drug.hold_doses} doses" if drug.hold_doses else f"{drug.hold_days} days"
    extra = "; INR checked on the day" if drug.inr_check else ""
    return f"{drug.name} (held {held} before{extra})"
