"""Who changed or looked at a patient's record, when, and from where.

Changes (create, update, delete of patients, cases, stages and held medications) are written by
django-auditlog, registered in settings.AUDITLOG_INCLUDE_TRACKING_MODELS. Views of a record are
AccessLog rows, written by AccessLogMiddleware. Both are read in the Django admin and cannot be
edited there.
"""
