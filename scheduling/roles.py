"""Staff roles are Django groups, created by migration 0003."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

FRONT_DESK = "front_desk"
NURSE = "nurse"
CLINICIAN = "clinician"
ADMIN = "admin"
ALL_ROLES = (FRONT_DESK, NURSE, CLINICIAN, ADMIN)

# Who may do what.
READ_CASES = ALL_ROLES
BOOK_CASES = (FRONT_DESK, CLINICIAN)
# Correcting a patient's contact details, language, channel and allergies on their record.
EDIT_PATIENTS = (FRONT_DESK, CLINICIAN, ADMIN)
OVERRIDE_SCREENING = (CLINICIAN,)
# Starting the procedure with the pre-op checklist incomplete, discharging before the criteria.
OVERRIDE_BEDSIDE_RULES = (CLINICIAN,)
# On the day: the front desk checks patients in; nurses and clinicians move them through
# the stages and discharge them.
CHECK_IN = (FRONT_DESK, NURSE, CLINICIAN)
TRACK_STAGES = (NURSE, CLINICIAN)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    cached = getattr(user, "_vertebro_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._vertebro_roles = cached
    return cached


def user_has_role(user: AbstractBaseUser | AnonymousUser, roles: tuple[str, ...]) -> bool:
    return bool(user_roles(user) & set(roles))
