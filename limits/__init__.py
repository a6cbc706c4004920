"""Limits on who may knock how often: the client address behind our proxies (client.py) and the
rate limits on the costly and unauthenticated doors (rates.py).

Below every app: the API, the patient links, the family board, the planner and the audit trail
all use it, and it imports none of them."""
