"""Who may read: staff by their roles, as everywhere in the API; a system client by its token's
scopes (`system/Appointment.r` to read an Appointment, `.s` to search them). Both then see only
their sites' rows, through the one visibility rule."""

from rest_framework.permissions import SAFE_METHODS

from api.errors import ApiError
from scheduling.api.permissions import IsStaffMember

from .models import FhirAccessToken
from .scopes import scopes_allow

INTERACTION_LETTERS = {"read": "r", "search": "s"}


class FhirReader(IsStaffMember):
    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, FhirAccessToken):
            return super().has_permission(request, view)
        if request.method not in SAFE_METHODS or not hasattr(view, request.method.lower()):
            return True  # the view answers 405 (method_not_allowed)
        resource_type, interaction = view.scope_needed()
        if resource_type is None:
            return True  # the view answers 400 for a type it does not serve
        letter = INTERACTION_LETTERS[interaction]
        if not scopes_allow(request.auth.scopes, resource_type=resource_type, letter=letter):
            raise ApiError(
                "insufficient_scope",
                f"This token's scopes do not include system/{resource_type}.{letter}.",
            )
        return True
