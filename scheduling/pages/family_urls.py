"""The family board of a site, by its token."""

from django.urls import path

from . import family

urlpatterns = [
    path("family/<str:token>/", family.family_board, name="family-board"),
]
