from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessLog(models.Model):
    """One successful view of a patient's record (or a list of patients) by a member of staff.

    Case and patient are kept as plain ids, not foreign keys: the trail outlives the rows and never
    stands in the way of deleting them. The search words of a patient search are not kept: they
    are patient data themselves.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    username = models.CharField(max_length=150, help_text="Kept if the user is deleted.")
    remote_addr = models.GenericIPAddressField("from address", null=True, blank=True)
    method = models.CharField(max_length=8)
    url_name = models.CharField("page", max_length=64)
    path = models.CharField(max_length=255)
    case_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    patient_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    site_id = models.PositiveBigIntegerField(
        null=True, blank=True, db_index=True, help_text="The site the record was opened for."
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "record access"
        verbose_name_plural = "record accesses"

    def __str__(self) -> str:
        return f"{self.username} {self.url_name} {self.at:%Y-%m-%d %H:%M:%S}Z"
