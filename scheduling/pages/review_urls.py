"""The clinicians' review list of bookings a screening answer blocked."""

from django.urls import path

from . import reviews

urlpatterns = [
    path("review/", reviews.review_list, name="review-list"),
    path("review/<int:pk>/", reviews.review_decide, name="review-decide"),
]
