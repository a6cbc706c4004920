"""The clinicians' review list: bookings a screening answer blocked at the front desk, each
approved or declined with a reason through the services the API calls."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .. import roles, selectors, services
from ..errors import SchedulingError
from ..screening import ScreeningAnswers, screening_blockers
from ..timing import spelled
from .access import role_required

DECISIONS = {"approve": services.case_review_approve, "decline": services.case_review_decline}


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write the reason for your decision."},
    )
    decision = forms.ChoiceField(choices=[(name, name) for name in DECISIONS])


@role_required(*roles.OVERRIDE_SCREENING)
def review_list(request):
    rows = [
        (case, _blockers(case), ReviewForm(auto_id=f"id_%s_{case.pk}"))
        for case in selectors.cases_awaiting_review(user=request.user)
    ]
    return render(request, "pages/review_list.html", {"rows": rows})


@require_POST
@role_required(*roles.OVERRIDE_SCREENING)
def review_decide(request, pk: int):
    case = selectors.case_get(pk, request.user)
    if case is None:
        raise Http404("No such case.")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, f"{case.patient}: {' '.join(errors)}")
        return redirect("review-list")
    decision = form.cleaned_data["decision"]
    try:
        DECISIONS[decision](case=case, by=request.user, reason=form.cleaned_data["reason"])
    except SchedulingError as error:
        messages.error(request, f"{case.patient}: {error.detail}")
        return redirect("review-list")
    if decision == "approve":
        messages.success(
            request, f"{case.patient}: approved and booked; the patient's messages are planned."
        )
    else:
        messages.success(
            request, f"{case.patient}: declined; its time is freed and the patient was sent "
            "nothing. Call them with the decision."
        )
    return redirect("review-list")


def _blockers(case) -> list[str]:
    weeks = case.site.conservative_treatment_min_weeks
    blockers = screening_blockers(ScreeningAnswers.of(case), min_conservative_weeks=weeks)
    return [spelled(blocker.reason, locale=case.site.locale) for blocker in blockers]
