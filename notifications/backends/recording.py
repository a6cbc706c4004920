"""A provider double for tests and benches that run real workers: each send appends one JSON line
to the file named by VERTEBRO_RECORD_FILE, so sends can be counted across processes, killed ones
included. VERTEBRO_RECORD_DELAY_MS waits that long first, like a provider's round trip, so that a
kill can land inside the "provider call"."""

import json
import os
import time
import uuid
from datetime import UTC, datetime

from .base import Backend, OutgoingMessage


class RecordingBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        delay_ms = float(os.environ.get("VERTEBRO_RECORD_DELAY_MS") or 0)
        if delay_ms > 0:
            time.sleep(delay_ms / 1000)
        record = {
            "reminder_id": message.reminder_id,
            "channel": message.channel,
            "to": message.to,
            "pid": os.getpid(),
            "at": datetime.now(UTC).isoformat(),
        }
        line = (json.dumps(record) + "\n").encode()
        # O_APPEND and one write per line: lines of concurrent processes never interleave.
        fd = os.open(os.environ["VERTEBRO_RECORD_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return f"rec-{message.reminder_id}-{uuid.uuid4().hex[:8]}"
