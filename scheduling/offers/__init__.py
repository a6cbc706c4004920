"""Freed times offered by text to the waiting list: recorded when a case gives its time back
(freed.py), offered in waves (waves.py), texted from an outbox (sending.py), taken by a reply or
the offer's link (accept.py, replies.py)."""
