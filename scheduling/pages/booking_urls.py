from django.urls import path

from . import booking

urlpatterns = [
    path("book/", booking.book, name="book"),
]
