"""The one contract every channel backend keeps."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # sms | email
    to: str
    text: str
    subject: str = ""
    html: str = ""
    # (file name, content, MIME type), e.g. the appointment as an .ics file
    attachments: tuple[tuple[str, bytes, str], ...] = field(default=())
    reminder_id: int | None = None


class DeliveryError(Exception):
    """A send that failed. `permanent`: retrying will not help (a number that does not exist,
    an address the provider refuses); otherwise the send is retried with backoff."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Backend:
    def send(self, message: OutgoingMessage) -> str:
        """Hand the message to the provider; return its message id. Raise DeliveryError."""
        raise NotImplementedError
