"""Who may call an operation, by the staff roles of the user."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class RolePermission(BasePermission):
    """A view names who may read in `read_roles` (else `default_read_roles`) and who may write in
    `write_roles` (else no one). A subclass says who the readers are by default and how a user's
    roles are found."""

    default_read_roles: tuple[str, ...] = ()

    def user_has_role(self, user, roles: tuple[str, ...]) -> bool:
        raise NotImplementedError

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 (method_not_allowed), as its schema says
        if request.method in SAFE_METHODS:
            needed = getattr(view, "read_roles", self.default_read_roles)
        else:
            needed = getattr(view, "write_roles", ())
        return self.user_has_role(request.user, tuple(needed))
