import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vertebro_site.settings")

app = Celery("vertebro")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic schedule of the product lives here, in one place.
app.conf.beat_schedule = {
    "dispatch-due-reminders": {
        "task": "notifications.tasks.dispatch_due_reminders",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "sweep-reminders": {
        "task": "notifications.tasks.sweep_reminders",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # SIU messages to the hospital over MLLP (hl7v2), and the rows of a sender that died.
    "hl7-dispatch-due": {
        "task": "hl7v2.tasks.hl7_dispatch_due",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "hl7-sweep": {
        "task": "hl7v2.tasks.hl7_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Freed times offered to the waiting list: offers expire, next waves, texts to send.
    "offers-tick": {
        "task": "scheduling.tasks.offers_tick",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "slot-holds-sweep": {
        "task": "scheduling.tasks.slot_holds_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "review-holds-expire": {
        "task": "scheduling.tasks.review_holds_expire",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
}
