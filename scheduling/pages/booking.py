from django.shortcuts import render

from .. import roles
from .access import role_required


@role_required(*roles.BOOK_CASES)
def book(request):
    return render(request, "pages/book.html", {})
