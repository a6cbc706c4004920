from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"

    def ready(self) -> None:
        from auditlog import get_logentry_model
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import pre_save

        from vertebro_site.security import lockout_flag_to_django_request

        from .middleware import actor_from_request

        pre_save.connect(
            actor_from_request, sender=get_logentry_model(), dispatch_uid="audit-actor"
        )
        # Connected here, after "axes" in INSTALLED_APPS has connected its own receiver.
        user_login_failed.connect(lockout_flag_to_django_request, dispatch_uid="axes-drf-lockout")
