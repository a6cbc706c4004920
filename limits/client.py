"""Who is asking, as far as this server can tell: the client address behind the reverse proxy,
which the rate limits, the login lockout and the audit trail all count by.

The deployment in README.md puts Vertebro behind DJANGO_PROXY_COUNT reverse proxies (one by
default in production, none in development). Each proxy *appends* the address it received the
request from to X-Forwarded-For, so only the last DJANGO_PROXY_COUNT entries were written by a
proxy we run; everything to their left was sent by the client and may be made up. The client is
therefore the entry DJANGO_PROXY_COUNT places from the right. django-ipware's proxy_count counts
the other way ("client, proxy1" is one proxy) and, with a single proxy, reads a prepended entry
as the client: a different made-up address per attempt would dodge the login lockout. Axes,
the audit log and the access log all take the address from here instead.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote_addr = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "PROXY_COUNT", 0)
    if proxies <= 0:
        return remote_addr
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) < proxies:
        # Not every proxy wrote its entry: the request did not come the documented way.
        return remote_addr
    return _address(forwarded[-proxies]) or remote_addr


def _address(entry: str) -> str | None:
    """The IP address of one X-Forwarded-For entry, without a port; None if it is not one."""
    if entry.startswith("["):  # [2001:db8::1]:443
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:  # 203.0.113.7:443
        entry = entry.partition(":")[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None
