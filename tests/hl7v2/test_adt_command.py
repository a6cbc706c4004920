"""manage.py hl7_listen, as systemd runs it: it listens on the address given, applies what comes
in, and on SIGTERM stops cleanly (exit status 0), its log naming messages, never patients."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import hl7
import pytest
from django.db import connection
from hl7.client import MLLPClient

from hl7v2.models import InboundMessage, InboundStatus
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def this_database_url() -> str:
    """The test database, for a process of its own (it sees what the test commits)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}")


def command(*args: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(DATABASE_URL=this_database_url(), DJANGO_LOG_FORMAT="text", LOG_LEVEL="INFO")
    return subprocess.Popen(
        [sys.executable, "manage.py", "hl7_listen", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def test_the_command_listens_applies_and_stops_on_sigterm():
    if connection.vendor == "sqlite":
        pytest.skip("an in-memory SQLite test database is not shared with another process")
    patient = PatientFactory(first_name="Margaret", last_name="Whitfield", mrn="MRN-1001")
    port = free_port()
    listener = command("--address", f"127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = MLLPClient("127.0.0.1", port)
                break
            except OSError:
                if time.monotonic() > deadline or listener.poll() is not None:
                    pytest.fail(f"hl7_listen did not start:\n{listener.communicate()[0]}")
                time.sleep(0.2)
        with client:
            answer = client.send_message(
                "MSH|^~\\&|ENGINE|HOSPITAL|VERTEBRO|SPINE_UNIT|20260302120000||ADT^A08|CMD-1|P|2.5"
                "\rPID|1||mrn-1001^^^HOSPITAL^MR||Whitfield^Maggie||19480517"
            )
        ack = hl7.parse(answer.strip(b"\x0b\x1c\r").decode())
        assert (str(ack["MSA.F1"]), str(ack["MSA.F2"])) == ("AA", "CMD-1")
        patient.refresh_from_db()
        assert patient.first_name == "Maggie"
        assert InboundMessage.objects.get().status == InboundStatus.APPLIED
    finally:
        listener.send_signal(signal.SIGTERM)
        output, _ = listener.communicate(timeout=30)
    assert listener.returncode == 0, output
    assert f"HL7 listener on 127.0.0.1:{port}" in output
    assert "HL7 ADT^A08 CMD-1 applied" in output
    assert "HL7 listener stopped" in output
    for patient_data in ["Whitfield", "Maggie", "1001", "1948"]:
        assert patient_data not in output


def test_the_command_refuses_an_address_that_is_not_host_and_port():
    listener = command("--address", "localhost")
    output, _ = listener.communicate(timeout=60)
    assert listener.returncode == 1
    assert "Not host:port" in output
