"""Writing a record access: for a watched page (audit.middleware) and for what does not follow
from a page's URL alone (a patient shown or linked on the booking page). The address, method and
path come from the request being served (audit.middleware keeps it), or stay empty outside one."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from limits.client import client_ip

from .context import current_request
from .models import AccessLog


def access_record(
    *,
    user: AbstractBaseUser,
    what: str,
    patient_id: int | None = None,
    case_id: int | None = None,
    site_id: int | None = None,
    request: HttpRequest | None = None,
) -> AccessLog:
    """One record access by `user`; `what` names it in the log's "page" column."""
    request = request or current_request()
    return AccessLog.objects.create(
        user=user,
        username=user.get_username(),
        remote_addr=client_ip(request) if request is not None else None,
        method=request.method[:8] if request is not None else "",
        url_name=what[:64],
        path=request.path[:255] if request is not None else "",
        case_id=case_id,
        patient_id=patient_id,
        site_id=site_id,
    )
