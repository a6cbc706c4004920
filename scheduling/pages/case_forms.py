"""The forms of the case page's actions: reschedule, cancel, no-show and driver.

Each carries the case's version as the page showed it (a hidden field). A page left open while
someone else changed the case must not act on what it no longer shows: the view passes the
version to the service, which refuses a change to a case that has moved on since.
"""

import datetime as dt

from django import forms

from ..errors import SchedulingError
from ..models import Case
from ..services.patients import phone_e164


class CaseActionForm(forms.Form):
    use_required_attribute = False  # every message comes from the server, next to its field
    label_suffix = ""

    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, case: Case, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {"version": case.version, **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        self.case = case

    @property
    def shown_version(self) -> str:
        return str(self.data.get("version", ""))

    def is_stale(self) -> bool:
        return self.shown_version != self.case.version


class CancelForm(CaseActionForm):
    reason = forms.CharField(
        label="Why is the case cancelled?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the case is cancelled."},
        help_text="Recorded on the case with your name. The patient is told it is cancelled.",
    )


class NoShowForm(CaseActionForm):
    pass


class DriverForm(CaseActionForm):
    driver_name = forms.CharField(
        label="Driver's name",
        max_length=120,
        error_messages={"required": "Enter the driver's name."},
        help_text="The adult who takes the patient home.",
    )
    driver_phone = forms.CharField(
        label="Driver's phone",
        required=False,
        max_length=32,
        help_text="Optional. Without a country code it is read as a US number.",
    )

    def __init__(self, *args, case: Case, **kwargs) -> None:
        kwargs.setdefault(
            "initial", {"driver_name": case.driver_name, "driver_phone": case.driver_phone}
        )
        super().__init__(*args, case=case, **kwargs)

    def clean_driver_phone(self) -> str:
        raw = self.cleaned_data["driver_phone"]
        if not raw:
            return ""
        try:
            return phone_e164(raw, field="driver_phone")
        except SchedulingError as error:
            raise forms.ValidationError(error.detail) from None


class RescheduleDateForm(forms.Form):
    """The date whose free times are shown (a GET form)."""

    use_required_attribute = False
    label_suffix = ""

    date = forms.DateField(
        label="New date",
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Enter the new date.",
            "invalid": "Enter a date as YYYY-MM-DD.",
        },
    )


class RescheduleForm(CaseActionForm):
    """The new start, one of the free times shown (ISO 8601 with the site's UTC offset)."""

    start = forms.CharField(
        max_length=40, error_messages={"required": "Choose one of the free times."}
    )

    def clean_start(self) -> dt.datetime:
        try:
            start = dt.datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise forms.ValidationError("Choose one of the free times.")
        return start
