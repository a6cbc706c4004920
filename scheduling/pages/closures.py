"""A site's closures for the staff who cannot reach the Django admin: everyone on the site's
staff reads them; the front desk and admins add and lift them (the API's rules, see
scheduling/api/closures.py). Adding one moves no case: the page lists the cases already booked
on its days for the front desk to move."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from .. import roles, selectors
from ..errors import SchedulingError
from ..models import Closure, Resource, Site, Surgeon
from ..services.closures import cases_closed_by, closure_check, closure_create, closure_delete
from .access import role_required

CLOSURE_ROLES = (roles.ADMIN, roles.FRONT_DESK)


class ClosureForm(forms.Form):
    start_date = forms.DateField(
        label="First day closed",
        error_messages={"required": "Give the first day closed.",
                        "invalid": "Give the first day as a date (YYYY-MM-DD)."},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end_date = forms.DateField(
        label="Last day closed (included)",
        error_messages={"required": "Give the last day closed (the first again for one day).",
                        "invalid": "Give the last day as a date (YYYY-MM-DD)."},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label="Reason", max_length=200,
        error_messages={"required": "Say why, e.g. “Christmas Day” or “C-arm service”."},
    )
    resource = forms.ModelChoiceField(
        label="Only this room or bay", required=False, queryset=Resource.objects.none(),
        empty_label="— the whole site —",
        error_messages={"invalid_choice": "That room or bay is not at this site."},
    )
    surgeon = forms.ModelChoiceField(
        label="Or only this surgeon (leave)", required=False, queryset=Surgeon.objects.none(),
        empty_label="— no surgeon —",
        error_messages={"invalid_choice": "That surgeon does not work at this site."},
    )

    def __init__(self, data=None, *, site: Site):
        super().__init__(data)
        # Only the site's own: another site's room or surgeon is an invalid choice.
        self.fields["resource"].queryset = Resource.objects.filter(site=site, active=True)
        self.fields["surgeon"].queryset = Surgeon.objects.filter(sites=site, active=True)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            closure_check(
                start_date=cleaned["start_date"], end_date=cleaned["end_date"],
                names_resource=cleaned.get("resource") is not None,
                names_surgeon=cleaned.get("surgeon") is not None,
            )
        except SchedulingError as error:
            field = next(iter(error.errors), None)
            self.add_error(field if field in self.fields else None, error.detail)
        return cleaned


def _site(request, code: str) -> tuple[list[Site], Site | None]:
    """(the user's sites, the site named); another site's code answers as an unknown one."""
    sites = list(selectors.visible_sites(request.user))
    site = next((s for s in sites if s.code == code), None) if code else (sites or [None])[0]
    if code and site is None:
        raise Http404("No such site.")
    return sites, site


def _page_url(site: Site, **extra) -> str:
    return f"{reverse('closures')}?{urlencode({'site': site.code, **extra})}"


@require_http_methods(["GET", "POST"])
@role_required(*roles.READ_CASES)
def closures_page(request):
    source = request.POST if request.method == "POST" else request.GET
    sites, site = _site(request, source.get("site", ""))
    if site is None:
        messages.info(request, "You do not work at any site yet: ask an administrator.")
        return render(request, "pages/closures.html", {"site": None})
    may_write = roles.user_has_role(request.user, CLOSURE_ROLES)
    form = ClosureForm(site=site)
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        form = ClosureForm(request.POST, site=site)
        if form.is_valid():
            data = form.cleaned_data
            closure, _ = closure_create(
                site=site, start_date=data["start_date"], end_date=data["end_date"],
                reason=data["reason"], resource=data["resource"], surgeon=data["surgeon"],
                created_by=request.user,
            )
            return redirect(_page_url(site, added=closure.pk))
    today = timezone.now().astimezone(site.zone).date()
    past = source.get("past") == "1"
    closures = selectors.closures_of_site(site=site, from_day=None if past else today)
    added = _added(site, request.GET.get("added", ""))
    context = {
        "sites": sites, "site": site, "today": today, "past": past, "form": form,
        "closures": closures, "may_write": may_write, "added": added,
        # A surgeon's leave touches their cases at every site: list only the ones this user
        # may see (the others are their own site's staff's to move).
        "affected": list(
            cases_closed_by(closure=added)
            .filter(site__in=selectors.visible_sites(request.user))
            .select_related("patient", "site")
        ) if added else [],
    }
    with timezone.override(site.zone):
        return render(request, "pages/closures.html", context)


def _added(site: Site, raw: str) -> Closure | None:
    """The closure just added, named in the address after the redirect; of this site only."""
    if not raw.isdigit() or len(raw) > 10:
        return None
    return Closure.objects.filter(pk=int(raw), site=site).select_related(
        "resource", "surgeon").first()


@require_POST
@role_required(*CLOSURE_ROLES)
def closure_lift(request, pk: int):
    # Another site's closure is "not found", like one that does not exist.
    closure = selectors.closure_get(pk=pk, user=request.user)
    if closure is None:
        raise Http404("No such closure.")
    site, shown = closure.site, str(closure)
    closure_delete(closure=closure)
    messages.success(request, f"Lifted: {shown}. Those days can be booked again.")
    return redirect(_page_url(site))
