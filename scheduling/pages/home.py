from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .. import roles


@login_required
def home(request):
    """Each role starts where its work is."""
    mine = roles.user_roles(request.user)
    if mine & {roles.FRONT_DESK, roles.CLINICIAN}:
        return redirect("book")
    if roles.NURSE in mine:
        return redirect("board")
    if roles.ADMIN in mine:
        return redirect("admin:index")
    return render(request, "pages/home.html", {"roles": sorted(mine)})
