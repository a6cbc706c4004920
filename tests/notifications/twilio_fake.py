"""Stand-ins for Twilio at the edge: its HTTP API (for the backend) and its signed webhook
calls (for our views)."""

import json
import logging

from django.test import Client
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from notifications.backends.twilio import TwilioBackend

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"
PUBLIC_BASE_URL = "https://vertebro.example.org"


def twilio_settings(settings) -> None:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL


def message_json(sid: str, **fields) -> dict:
    return {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued", "from": FROM_NUMBER,
            "num_segments": "1", "error_code": None, "error_message": None, **fields}


class FakeTwilioHttp(HttpClient):
    """Records each request and answers from a queue of (status, JSON) replies, or raises."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.requests: list[dict] = []
        self.replies: list = []
        self._sids = iter(range(1, 10_000))

    def reply(self, status: int, payload: dict) -> None:
        self.replies.append((status, payload))

    def fail_with(self, exc: Exception) -> None:
        self.replies.append(exc)

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.requests.append({"method": method, "url": url, "data": data, "auth": auth})
        reply = self.replies.pop(0) if self.replies else None
        if isinstance(reply, Exception):
            raise reply
        if reply is None:
            sid = f"SM{next(self._sids):032x}"
            reply = (201, message_json(sid, to=data["To"], body=data["Body"]))
        status, payload = reply
        return Response(status, json.dumps(payload))


class FakeWiredTwilioBackend(TwilioBackend):
    """The real backend over the fake HTTP API; set `http` before the backend is built."""

    http: FakeTwilioHttp | None = None

    def __init__(self) -> None:
        super().__init__(http_client=self.http)


def signed_post(client: Client, path: str, params: dict, *, token: str = AUTH_TOKEN):
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
