"""SMART system scopes: `system/<Type or *>.<letters of cruds>` (v2), and v1's `.read`, `.write`
and `.*`. What a client is granted is what it asks for within what it is allowed, scope by
scope (asking `system/*.rs` when allowed `system/Patient.rs` grants `system/Patient.rs`)."""

import re
from typing import NamedTuple

LETTERS = "cruds"
V1_LETTERS = {"read": "rs", "write": "cud", "*": "cruds"}
SCOPE = re.compile(r"system/(\*|[A-Z][A-Za-z]{0,63})\.(\*|read|write|c?r?u?d?s?)")


class Scope(NamedTuple):
    resource_type: str
    letters: frozenset[str]

    def __str__(self) -> str:
        return f"system/{self.resource_type}.{''.join(c for c in LETTERS if c in self.letters)}"


class ScopeError(ValueError):
    pass


def scope_parse(text: str) -> Scope:
    match = SCOPE.fullmatch(text)
    if match is None or not match[2]:
        raise ScopeError(f"Not a system scope: {text[:80]!r}.")
    letters = V1_LETTERS.get(match[2], match[2])
    return Scope(match[1], frozenset(letters))


def scopes_parse(text: str) -> list[Scope]:
    return [scope_parse(word) for word in text.split()]


def _meet(asked: Scope, allowed: Scope) -> Scope | None:
    if "*" not in (asked.resource_type, allowed.resource_type) and (
        asked.resource_type != allowed.resource_type
    ):
        return None
    resource_type = allowed.resource_type if asked.resource_type == "*" else asked.resource_type
    letters = asked.letters & allowed.letters
    return Scope(resource_type, letters) if letters else None


def scopes_granted(*, asked: list[Scope], allowed: list[Scope]) -> str:
    """The granted scopes as a space-separated string (empty: none of them is allowed)."""
    granted = {str(s) for a in asked for b in allowed if (s := _meet(a, b)) is not None}
    return " ".join(sorted(granted))


def scopes_allow(granted: str, *, resource_type: str, letter: str) -> bool:
    return any(
        scope.resource_type in ("*", resource_type) and letter in scope.letters
        for scope in scopes_parse(granted)
    )
