from auditlog import get_logentry_model
from django.apps import AppConfig
from django.db.models.signals import pre_save

from .context import actor_from_request


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"

    def ready(self) -> None:
        pre_save.connect(
            actor_from_request, sender=get_logentry_model(), dispatch_uid="audit-actor"
        )
