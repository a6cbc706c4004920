"""The embedded default: messages are written to the console (the worker's log), nothing leaves
the machine. Staff also see every message on the case's message list."""

import sys
import uuid

from .base import Backend, OutgoingMessage


class ConsoleBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        message_id = f"console-{uuid.uuid4().hex[:16]}"
        lines = [f"--- {message.channel.upper()} to {message.to} ({message_id})"]
        if message.subject:
            lines.append(f"Subject: {message.subject}")
        lines.append(message.text)
        lines.extend(f"[attachment {name}, {mime}]" for name, _, mime in message.attachments)
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        return message_id
