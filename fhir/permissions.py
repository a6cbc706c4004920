"""Who may read: staff by their roles, as everywhere in the API; a system client by its token's
scopes (`system/Appointment.r` to read an Appointment, `.s` to search them). Both then see only
their sites' rows, through the one visibility rule. Who may create: staff in the roles the REST
API asks for the same write (a type's create_roles), a system client with `.c` of the type."""

from rest_framework.permissions import SAFE_METHODS

from api.errors import ApiError
from scheduling.api.permissions import IsStaffMember

from .models import FhirAccessToken
from .scopes import scopes_allow

INTERACTION_LETTERS = {"read": "r", "search": "s", "create": "c"}


class FhirReader(IsStaffMember):
    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 (method_not_allowed)
        creates = request.method not in SAFE_METHODS
        # A read or search address knows its type; another view of the interface is asked as
        # any API view is (its roles, its scope).
        typed = hasattr(view, "fhir_type_asked")
        fhir_type = view.fhir_type_asked() if typed else None
        if typed and (fhir_type is None or (creates and fhir_type.create is None)):
            return True  # the view answers 400 for a type it does not serve, 405 for no create
        if not isinstance(request.auth, FhirAccessToken):
            if not typed:
                return super().has_permission(request, view)
            if creates:
                return self.user_has_role(request.user, fhir_type.create_roles)
            return self.user_has_role(request.user, fhir_type.read_roles or self.default_read_roles)
        if creates and not typed:
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
