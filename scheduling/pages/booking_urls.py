from django.urls import path

from . import booking

urlpatterns = [
    path("book/", booking.book, name="book"),
    path("cases/<int:pk>/confirmation/", booking.confirmation, name="case-confirmation"),
]
