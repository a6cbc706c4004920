from django.urls import path

from . import booking

urlpatterns = [
    path("book/", booking.book, name="book"),
    path("book/times/", booking.book_times, name="book-times"),
    path("cases/<int:pk>/confirmation/", booking.confirmation, name="case-confirmation"),
]
