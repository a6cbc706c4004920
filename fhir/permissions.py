"""Who may read and write: staff by their roles, as everywhere in the API; a system client by its
token's scopes (`system/Appointment.r` to read an Appointment, `.s` to search them, `.c` to book
and `.u` to move or cancel one). Both then see only their sites' rows, through the one
visibility rule."""

from api.errors import ApiError
from scheduling.api.permissions import IsStaffMember

from .models import FhirAccessToken
from .scopes import scopes_allow

INTERACTION_LETTERS = {"read": "r", "search": "s", "create": "c", "update": "u"}


def scope_check(request, resource_type: str, interaction: str) -> None:
    """Refuse a system client whose token lacks the scope (staff are checked by their roles)."""
    if not isinstance(request.auth, FhirAccessToken):
        return
    letter = INTERACTION_LETTERS[interaction]
    if not scopes_allow(request.auth.scopes, resource_type=resource_type, letter=letter):
        raise ApiError(
            "insufficient_scope",
            f"This token's scopes do not include system/{resource_type}.{letter}.",
        )


class FhirReader(IsStaffMember):
    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, FhirAccessToken):
            return super().has_permission(request, view)
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 (method_not_allowed)
        resource_type, interaction = view.scope_needed()
        if resource_type is None:
            return True  # the view answers 400 for a type it does not serve
        if interaction is None:
            return True  # the view checks once it has read what the request asks to do
        scope_check(request, resource_type, interaction)
        return True
