from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .. import roles


@login_required
def home(request):
    """Each role starts where its work is; a manager's work is in several places, so an admin
    starts on a page that leads to each of them."""
    mine = roles.user_roles(request.user)
    if mine & {roles.FRONT_DESK, roles.CLINICIAN}:
        return redirect("book")
    if roles.NURSE in mine:
        return redirect("board")
    return render(request, "pages/home.html", {"roles": sorted(mine), "admin": roles.ADMIN in mine})
