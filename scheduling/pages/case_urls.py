"""The case page and its actions, patient search and the printable day list."""

from django.urls import path

from . import cases, day_list, patients, search

urlpatterns = [
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("cases/<int:pk>/reschedule/", cases.case_reschedule, name="case-reschedule"),
    path("cases/<int:pk>/cancel/", cases.case_cancel, name="case-cancel"),
    path("cases/<int:pk>/no-show/", cases.case_no_show, name="case-no-show"),
    path("cases/<int:pk>/driver/", cases.case_driver, name="case-driver"),
    path("cases/<int:pk>/correct/", patients.case_correct, name="case-correct"),
    path("patients/", search.patient_search, name="patient-search"),
    path("patients/<int:pk>/", patients.patient_record, name="patient-record"),
    path("day/", day_list.day_list, name="day-list"),
]
