from rest_framework.permissions import SAFE_METHODS, BasePermission

from .. import roles


class IsStaffMember(BasePermission):
    """Any of the four staff roles may read; views name who may write in `write_roles`."""

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 (method_not_allowed), as its schema says
        if request.method in SAFE_METHODS:
            needed = getattr(view, "read_roles", roles.READ_CASES)
        else:
            needed = getattr(view, "write_roles", ())
        return roles.user_has_role(request.user, tuple(needed))
