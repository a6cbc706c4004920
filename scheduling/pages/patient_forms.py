"""The forms of the patient's record (contact details, language, channel, allergies) and of a
case's correction (screening answers and medicines, until check-in)."""

from django import forms

from .. import roles, selectors
from ..errors import SchedulingError
from ..models import Channel, Drug, Patient
from ..screening import ScreeningAnswers
from ..services.patients import phone_e164
from ..timing import spelled
from .case_forms import CaseActionForm
from .forms import LANGUAGES, SCREENING_QUESTIONS, _drug_label, _yes_no


class PatientForm(forms.Form):
    use_required_attribute = False  # every message comes from the server, next to its field
    label_suffix = ""

    phone = forms.CharField(
        label="Mobile phone",
        required=False,
        max_length=32,
        help_text="For text messages; without a country code it is read as a US number.",
    )
    email = forms.EmailField(label="Email address", required=False)
    preferred_channel = forms.ChoiceField(
        label="Send messages by",
        choices=[(Channel.SMS, "Text message (SMS)"), (Channel.EMAIL, "Email")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose text message or email."},
    )
    language = forms.ChoiceField(label="Language for messages", choices=LANGUAGES)
    allergy_contrast = forms.BooleanField(label="Allergic to contrast (dye)", required=False)
    allergy_latex = forms.BooleanField(label="Allergic to latex", required=False)
    allergy_other = forms.CharField(label="Other allergies", required=False, max_length=240)

    @classmethod
    def of(cls, patient: Patient, data=None) -> "PatientForm":
        return cls(data, initial={name: getattr(patient, name) for name in cls.base_fields})

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        try:
            return phone_e164(raw, field="phone")
        except SchedulingError as error:
            raise forms.ValidationError(error.detail) from None

    def clean(self) -> dict:
        data = super().clean()
        wants_email = data.get("preferred_channel") == Channel.EMAIL
        if wants_email and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter an email address to send messages by email.")
        return data


class CorrectionForm(CaseActionForm):
    """The case's screening answers and medicines as they are, to be put right."""

    conservative_treatment_weeks = forms.IntegerField(
        label="Weeks of conservative treatment tried",
        min_value=0,
        max_value=520,
        error_messages={"required": "Enter the number of weeks (0 if none)."},
    )
    medications = forms.MultipleChoiceField(
        label="Medicines to hold before the procedure",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "“%(value)s” is not in the medication table."},
    )
    no_medicines = forms.BooleanField(label="Takes none of these", required=False)
    other_medicines = forms.CharField(label="Other medicines", required=False, max_length=500)
    override_reason = forms.CharField(
        label="Screening override: reason",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when a corrected answer blocks the case. Recorded with your name.",
    )

    def __init__(self, *args, case, user, **kwargs) -> None:
        kwargs.setdefault("initial", {
            **{name: ("yes" if getattr(case, name) else "no") for name in SCREENING_QUESTIONS},
            "conservative_treatment_weeks": case.conservative_treatment_weeks,
            "medications": [held.drug.code for held in case.held_medications.all()],
            "no_medicines": case.takes_no_medicines,
            "other_medicines": case.other_medicines,
        })
        super().__init__(*args, case=case, **kwargs)
        for name, question in reversed(SCREENING_QUESTIONS.items()):
            self.fields = {name: _yes_no(question), **self.fields}
        self.fields["medications"].choices = [
            (drug.code, _drug_label(drug)) for drug in Drug.objects.filter(active=True)
        ]
        if not roles.user_has_role(user, roles.OVERRIDE_SCREENING):
            del self.fields["override_reason"]
        for field in self.fields.values():  # in the site's spelling, as on the booking form
            if isinstance(field.label, str):
                field.label = spelled(field.label, locale=case.site.locale)

    def clean(self) -> dict:
        data = super().clean()
        if "medications" not in self.errors:
            if data.get("medications") and data.get("no_medicines"):
                self.add_error(
                    "medications",
                    "Tick either the medicines the patient takes or “Takes none of these”, "
                    "not both.",
                )
            elif not data.get("medications") and not data.get("no_medicines"):
                self.add_error(
                    "medications",
                    "Tick each medicine the patient takes, or “Takes none of these”.",
                )
        return data

    def screening_answers(self) -> ScreeningAnswers:
        data = self.cleaned_data
        return ScreeningAnswers(
            **{name: data[name] for name in SCREENING_QUESTIONS},
            conservative_treatment_weeks=data["conservative_treatment_weeks"],
        )

    def drugs(self) -> list[Drug]:
        return selectors.drugs_get(self.cleaned_data.get("medications", []))

    def override_for_service(self) -> str | None:
        reason = self.cleaned_data.get("override_reason", "")
        return reason if "override_reason" in self.fields and reason.strip() else None
