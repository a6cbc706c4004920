"""A real MLLP peer for the sender's tests and bench: python-hl7's asyncio MLLP server on
127.0.0.1, in a thread of its own. It records every message it reads (in arrival order) and
answers each as told: AA, AE or AR with a text, or by closing the connection without an answer.

Also here: a small valid SIU message, and outbox rows made with it directly (the builder of
real messages is not needed to test their delivery).
"""

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import hl7
from django.test import override_settings
from hl7.mllp import start_hl7_server

from tests.factories import case_made

DROP = "drop"  # close the connection after reading the message, without an answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    control_id: str
    trigger: str
    text: str
    at: float  # time.monotonic() when read


class Peer:
    """Start with `start()`, stop with `stop()` (the port stays this peer's, so it can come
    back up on it). `answer` is the default answer; `answers[control_id]` overrides it for one
    message, as (code, text), as (code, text, the control id acknowledged) or DROP. `delay`
    seconds pass before each answer."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.answer: tuple[str, str] | str = ("AA", "")
        self.answers: dict[str, tuple | str] = {}
        self.delay = 0.0
        self.received: list[Received] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self._writers: set = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def control_ids(self) -> list[str]:
        with self._lock:
            return [message.control_id for message in self.received]

    def start(self) -> "Peer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    start_hl7_server(self._client, "127.0.0.1", self.port, encoding="utf-8",
                                     reuse_address=True)
                )
            except BaseException as exc:  # noqa: BLE001 - told to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=f"mllp-peer-{self.port}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        async def shut() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = self._thread = self._server = None

    async def _client(self, reader, writer) -> None:
        self._writers.add(writer)
        with self._lock:
            self.connections += 1
        try:
            while True:
                try:
                    message = await reader.readmessage()
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                msh = message.segment("MSH")
                control_id = str(msh(10))
                with self._lock:
                    self.received.append(Received(
                        control_id, str(msh(9)(1)(2)), str(message), time.monotonic()
                    ))
                    answer = self.answers.get(control_id, self.answer)
                if self.delay:
                    await asyncio.sleep(self.delay)
                if answer == DROP:
                    writer.transport.abort()
                    return
                code, text, *acknowledged = answer
                writer.writemessage(ack_of(message, code=code, text=text,
                                           control_id=acknowledged[0] if acknowledged else None))
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.close()


def ack_of(message: hl7.Message, *, code: str, text: str = "",
           control_id: str | None = None) -> str:
    """The original-mode acknowledgement of `message`: MSA-1 the code, MSA-2 its control id
    (or `control_id`: a peer that answers for another message), MSA-3 the text."""
    msh = message.segment("MSH")
    acknowledged = control_id or str(msh(10))
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return "\r".join([
        f"MSH|^~\\&|{msh(5)}|{msh(6)}|{msh(3)}|{msh(4)}|{now}||ACK^{msh(9)(1)(2)}^ACK|"
        f"ACK{msh(10)}|P|2.5.1",
        f"MSA|{code}|{acknowledged}|{text}",
    ])


def siu_body(*, control_id: str, trigger: str = "S12", patient: str = "Testcase^Ada") -> str:
    """A small valid SIU message (ER7, segments ended by CR)."""
    return "\r".join([
        f"MSH|^~\\&|VERTEBRO|SPINE_UNIT|ENGINE|HOSPITAL|20260303150000||SIU^{trigger}^SIU_S12|"
        f"{control_id}|P|2.5.1",
        f"SCH|{control_id}|{control_id}|||||||||^^^20260303150000^20260303170000",
        f"PID|1||MRN-HL7-1^^^VERTEBRO^MR||{patient}||19480517|F",
        "RGS|1|A",
        "AIL|1|A|ROOM-1^^^SPINE_UNIT",
    ]) + "\r"


def case_untold(**booking):
    """A case booked with no endpoint configured, so its booking writes no outbox row of its
    own: the sender's tests write the rows they send themselves."""
    with override_settings(HL7_ENDPOINTS={}):
        return case_made(**booking)


def run_apart(coroutine):
    """Run a client's coroutine to its end in a thread of its own: the test's thread may already
    run an event loop (the browser tests' Playwright, kept for the session)."""
    outcome = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed back to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
