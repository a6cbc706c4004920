"""An MLLP connection to one of the hospital's endpoints, for the sender (hl7v2.sending): a
message framed by python-hl7's MLLP streams (<VT> message <FS><CR>), written on a connection made
within CONNECT_TIMEOUT, its acknowledgement read within ACK_TIMEOUT. The two ways it can go wrong
are told apart, because the sender's promise rests on them: PeerUnreachable (nothing was
written) and NoAnswer (written, no acknowledgement read)."""

import asyncio
import contextlib
import threading
from dataclasses import dataclass

import hl7
from django.conf import settings
from hl7.mllp import open_hl7_connection

CONNECT_TIMEOUT = 5.0  # seconds
ACK_TIMEOUT = 30.0  # seconds from the message written to the acknowledgement read
ACCEPTED = ("AA", "CA")
REFUSED = ("AE", "AR", "CE", "CR")


class PeerUnreachable(Exception):
    """No connection could be made: nothing was written."""


class NoAnswer(Exception):
    """The message was written and no acknowledgement of it came back."""


@dataclass(frozen=True)
class Ack:
    code: str  # MSA-1
    control_id: str  # MSA-2: the control id of the message acknowledged
    text: str  # MSA-3, or the error segment's text


def ack_read(er7: str) -> Ack:
    """The MSA of an acknowledgement in ER7; ValueError if it has none."""
    message = hl7.parse(er7)
    msa = message.segment("MSA")
    code = str(msa(1)).strip().upper()
    control_id = str(msa(2)).strip() if len(msa) > 2 else ""
    text = str(msa(3)).strip() if len(msa) > 3 else ""
    if not text:
        try:
            err = message.segment("ERR")
        except KeyError:
            err = None
        if err is not None and len(err) > 8:
            text = str(err(8)).strip()
    return Ack(code=code, control_id=control_id, text=text)


def endpoint_address(name: str) -> tuple[str, int]:
    """The configured endpoint's host and port; KeyError if it is no longer configured."""
    host, _, port = settings.HL7_ENDPOINTS[name].rpartition(":")
    return host, int(port)


class MllpLink:
    """One MLLP connection to one endpoint, driven from synchronous code. Its event loop runs in
    a thread of its own, so a caller whose thread already runs a loop (a worker started inside
    an async framework) can drive it too; each call waits for its step to finish there."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name=f"mllp-{endpoint}")
        self.thread.start()
        self.reader = None
        self.writer = None

    def _run(self, step):
        return asyncio.run_coroutine_threadsafe(step, self.loop).result()

    def ready(self) -> None:
        """An open connection, made now if there is none or the peer has closed it."""
        self._run(self._ready())

    async def _ready(self) -> None:
        await asyncio.sleep(0)  # lets a close by the peer since its last answer be seen
        if self.writer is not None and not (
            self.reader.at_eof() or self.writer.is_closing()
        ):
            return
        await self._close()
        try:
            host, port = endpoint_address(self.endpoint)
        except (KeyError, ValueError) as exc:
            raise PeerUnreachable(f"The endpoint {self.endpoint} is not configured.") from exc
        try:
            self.reader, self.writer = await asyncio.wait_for(
                open_hl7_connection(host, port, encoding="utf-8"), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError) as exc:
            raise PeerUnreachable(f"No connection to {self.endpoint}: {_reason(exc)}") from exc

    def exchange(self, body: str) -> str:
        """Write one message, return the acknowledgement's text; NoAnswer if none came."""
        return self._run(self._exchange(body))

    async def _exchange(self, body: str) -> str:
        try:
            self.writer.writeblock(body.encode("utf-8"))
            await asyncio.wait_for(self.writer.drain(), ACK_TIMEOUT)
            block = await asyncio.wait_for(self.reader.readblock(), ACK_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            await self._close()
            raise NoAnswer(f"No acknowledgement from {self.endpoint}: {_reason(exc)}") from exc
        return block.decode("utf-8", errors="replace")

    def close(self) -> None:
        try:
            self._run(self._close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()

    async def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        self.reader = self.writer = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the connection was closed"
    return type(exc).__name__
