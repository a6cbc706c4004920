"""The request's side of the audit trail: who (actor), from where (address), what was seen."""

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest, HttpResponse

from limits.client import client_ip
from scheduling.models import Case, WaitingListEntry

from .access import access_record
from .context import request_reset, request_set

# Pages and API views that show one case, and with it its patient (the URL's `pk` is the case).
CASE_VIEWS = frozenset(
    {
        "case-detail",
        "case-confirmation",
        "case-reschedule",
        "case-cancel",
        "case-no-show",
        "case-driver",
        "case-correct",
        "api-case",
        "api-case-messages",
        "api-case-reschedule",
        "api-case-cancel",
        "api-case-no-show",
    }
)
# Pages and API views that show one waiting-list entry, and with it its patient.
WAITING_VIEWS = frozenset({"api-waiting-entry"})
# Pages that list patients by name: logged as an access with no one case.
LIST_VIEWS = frozenset(
    {
        "patient-search",
        "day-list",
        "api-cases",
        "board",
        "board-partial",
        "api-board",
        "api-waiting-list",
        "api-needs-call",
        "api-not-reached",
    }
)


class AuditActorMiddleware(AuditlogMiddleware):
    """auditlog's middleware, with the client address taken behind our proxy (auditlog itself
    trusts the left-most X-Forwarded-For entry, which the client writes) and the actor taken when
    the change is saved rather than when the request arrives: an API call authenticates by token
    inside the view, after every middleware has run."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_ip(request)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_set(request)
        try:
            return super().__call__(request)
        finally:
            request_reset(token)


class AccessLogMiddleware:
    """Writes an AccessLog row for each successful (200) view of a watched page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None or response.status_code != 200:
            return response
        name = match.url_name
        if name not in CASE_VIEWS and name not in WAITING_VIEWS and name not in LIST_VIEWS:
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        case_id = match.kwargs.get("pk") if name in CASE_VIEWS else None
        patient_id = (
            _patient_waiting(match.kwargs.get("pk"))
            if name in WAITING_VIEWS
            else _patient_of(case_id)
        )
        access_record(
            user=user, what=name, case_id=case_id, patient_id=patient_id, request=request
        )
        return response


def _patient_waiting(entry_id: int | None) -> int | None:
    if entry_id is None:
        return None
    return WaitingListEntry.objects.filter(pk=entry_id).values_list("patient_id", flat=True).first()


def _patient_of(case_id: int | None) -> int | None:
    if case_id is None:
        return None
    return Case.objects.filter(pk=case_id).values_list("patient_id", flat=True).first()
