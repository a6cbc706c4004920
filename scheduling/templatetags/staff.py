from django import template

from .. import roles

register = template.Library()


@register.filter
def has_role(user, names: str) -> bool:
    """{% if user|has_role:"front_desk,clinician" %}: the user holds one of these roles."""
    return roles.user_has_role(user, tuple(name.strip() for name in names.split(",")))
