"""The MLLP listener for ADT messages from the hospital's interface engine (manage.py
hl7_listen): python-hl7's asyncio MLLP server; each message is applied by hl7v2.adt.adt_apply and
answered with its acknowledgement on the same connection, before the next is read.

The messages are applied one at a time, in one worker thread that holds the listener's one
database connection: two updates of the same patient land in the order they arrived, and a
burst from the engine never opens more connections. The log names a message by its type and
control id only, never by anything in it."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import hl7.mllp
from django.db import close_old_connections, connections

from .adt import adt_apply

log = logging.getLogger(__name__)

# Larger than any ADT message a patient update needs; a longer block closes the connection.
BLOCK_LIMIT = 1024 * 1024
# On SIGTERM a message being applied is finished and answered; a connection left idle is then
# closed after this long.
STOP_GRACE_SECONDS = 10


def address_parse(address: str) -> tuple[str, int]:
    """ "host:port" (an IPv6 host in brackets, "[::1]:2575") as (host, port); ValueError if not."""
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"Not host:port: {address!r}")
    return host.strip("[]"), int(port)


def listener_run(address: str) -> None:
    """Listen on `address` until SIGTERM or SIGINT."""
    host, port = address_parse(address)
    asyncio.run(_until_signalled(host, port))


async def _until_signalled(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    await listen(host=host, port=port, stop=stop)


async def listen(
    *, host: str, port: int, stop: asyncio.Event,
    started: Callable[[tuple[str, int]], None] | None = None,
) -> None:
    """Serve on host:port (port 0: any free one) until `stop` is set; `started` is told the
    address bound. Stopping refuses new connections and closes the idle ones at once; a message
    being applied is finished and answered first (for up to STOP_GRACE_SECONDS). Then the
    database connection is closed."""
    conversations = _Conversations(stop)
    server = await hl7.mllp.start_hl7_server(
        conversations.connected, host, port, limit=BLOCK_LIMIT
    )
    bound = server.sockets[0].getsockname()[:2]
    log.info("HL7 listener on %s:%s", *bound)
    if started is not None:
        started(bound)
    try:
        await stop.wait()
    finally:
        server.close()
        await conversations.close()
        await server.wait_closed()
        log.info("HL7 listener stopped")


class _Conversations:
    """The open connections, each a task that reads a block, applies it and answers it, until
    the peer closes the connection or the listener stops; and the one worker thread that applies
    the messages."""

    def __init__(self, stop: asyncio.Event):
        self.stop = stop
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7-adt")
        self.writers: dict[asyncio.Task, object] = {}
        self.busy: set[asyncio.Task] = set()

    def connected(self, reader, writer) -> None:
        """python-hl7's callback for a new connection: registered at once, so that a stop
        arriving before the conversation's first step still closes it."""
        if self.stop.is_set():
            writer.close()
            return
        task = asyncio.get_running_loop().create_task(self._conversation(reader, writer))
        self.writers[task] = writer
        task.add_done_callback(self._ended)

    async def close(self) -> None:
        idle = [task for task in self.writers if task not in self.busy]
        for task in idle:
            task.cancel()
        if self.busy:
            await asyncio.wait(set(self.busy), timeout=STOP_GRACE_SECONDS)
        for task in list(self.writers):
            task.cancel()
        await asyncio.gather(*self.writers, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self.worker, connections.close_all)
        self.worker.shutdown(wait=True)

    def _ended(self, task: asyncio.Task) -> None:
        # A task cancelled before its first step never ran its own `finally`.
        self.writers.pop(task).close()
        self.busy.discard(task)

    async def _conversation(self, reader, writer) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        try:
            while not self.stop.is_set():
                try:
                    block = await reader.readblock()
                except asyncio.IncompleteReadError:
                    return  # the peer closed the connection
                except (hl7.mllp.InvalidBlockError, ValueError) as exc:
                    log.warning("HL7 connection closed: not an MLLP block (%s)",
                                type(exc).__name__)
                    return
                self.busy.add(task)
                try:
                    ack = await loop.run_in_executor(self.worker, _applied, _text(block))
                    if ack is None:
                        return
                    writer.writeblock(ack.encode("utf-8"))
                    await writer.drain()
                finally:
                    self.busy.discard(task)
        except ConnectionError:
            return
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()


def _applied(er7_text: str) -> str | None:
    """adt_apply in the worker thread, with a database connection that is usable (one the
    server closed, or older than CONN_MAX_AGE, is replaced first, as a request would); None if
    it failed: the connection is closed unanswered, and the engine sends the message again."""
    close_old_connections()
    try:
        return adt_apply(er7_text)
    except Exception as exc:
        # The class only: the text of the error may quote the message.
        log.error("HL7 message not applied: %s", type(exc).__name__)
        return None
    finally:
        close_old_connections()


def _text(block: bytes) -> str:
    """The block as text: UTF-8, as HL7 v2.8 and python-hl7 prefer; else Latin-1 (ISO 8859-1,
    MSH-18 "8859/1"), which older engines send and which decodes any byte."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")
