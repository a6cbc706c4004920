"""Who may read and write: staff by their roles, as everywhere in the API; a system client by its
token's scopes (`system/Appointment.r` to read an Appointment, `.s` to search them, `.c` to book
and `.u` to move or cancel one, `system/ServiceRequest.c` to put a patient on the waiting list).
Both then see only their sites' rows, through the one visibility rule. A type's read and search
address asks staff for the type's roles (its read_roles, when fewer than every role; its
create_roles, those the REST API asks for the same write)."""

from rest_framework.permissions import SAFE_METHODS

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
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 (method_not_allowed)
        # A read or search address knows its type; an operation is asked by its own roles and
        # scope, as any API view.
        typed = hasattr(view, "fhir_type_asked")
        fhir_type = view.fhir_type_asked() if typed else None
        creates = request.method not in SAFE_METHODS
        if typed and (fhir_type is None or (creates and fhir_type.create is None)):
            return True  # the view answers 400 for a type it does not serve, 405 for no create
        if not isinstance(request.auth, FhirAccessToken):
            if not typed:
                return super().has_permission(request, view)
            if creates:
                return self.user_has_role(request.user, fhir_type.create_roles)
            return self.user_has_role(request.user, fhir_type.read_roles or self.default_read_roles)
        resource_type, interaction = view.scope_needed()
        if resource_type is None:
            return True  # the view answers 400 for a type it does not serve
        if interaction is None:
            return True  # the view checks once it has read what the request asks to do
        scope_check(request, resource_type, interaction)
        return True
