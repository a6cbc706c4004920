"""Who may open a staff page: logged in, with one of the page's roles."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .. import roles


def role_required(*allowed: str):
    """Not logged in: to the login page. Logged in without the role: 403."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not roles.user_has_role(request.user, allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return checked

    return decorator
