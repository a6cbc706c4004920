from api.permissions import RolePermission

from .. import roles


class IsStaffMember(RolePermission):
    """Any of the four staff roles may read; views name who may write in `write_roles`."""

    default_read_roles = roles.READ_CASES

    def user_has_role(self, user, roles_needed: tuple[str, ...]) -> bool:
        return roles.user_has_role(user, roles_needed)
