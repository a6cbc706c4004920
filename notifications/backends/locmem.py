"""An in-memory outbox for tests: every message sent in this process, in order."""

import itertools
import threading

from .base import Backend, DeliveryError, OutgoingMessage

outbox: list[OutgoingMessage] = []
# Recipients that fail, for tests of retries and fallbacks: address -> permanent?
failing: dict[str, bool] = {}
_lock = threading.Lock()
_ids = itertools.count(1)


class OutboxBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        if message.to in failing:
            raise DeliveryError(f"refused {message.to}", permanent=failing[message.to])
        with _lock:
            outbox.append(message)
            return f"locmem-{next(_ids)}"


def reset() -> None:
    with _lock:
        outbox.clear()
        failing.clear()
