"""Naming the room or bay of each stay the solver placed in a pool of alike units.

The solver only kept each pool's stays at or under its number of units at every instant. Taking
the stays by start time and giving each a unit free at its start is then always possible (at a
stay's start, the stays still running are fewer than the units), so the greedy colouring is exact.
Among the free units a stay gets the one it holds now if it is free (a booked case that did not
move keeps its room), else the first by name.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class StayToColour:
    key: str  # the case
    index: int  # which of its stays
    kind: str
    begin: int
    until: int
    wanted: str | None = None


def colour_stays(
    stays: list[StayToColour], pools: dict[str, tuple[str, ...]]
) -> dict[tuple[str, int], str]:
    """(case, stay index) -> unit. A pool that cannot take its stays is a solver fault."""
    chosen: dict[tuple[str, int], str] = {}
    free_at: dict[str, int] = {}
    for stay in sorted(stays, key=lambda s: (s.begin, s.wanted is None, s.key, s.index)):
        units = pools[stay.kind]
        free = [u for u in units if free_at.get(u, stay.begin) <= stay.begin]
        if not free:
            raise RuntimeError(f"More {stay.kind} stays at once than units of the kind.")
        unit = stay.wanted if stay.wanted in free else free[0]
        free_at[unit] = stay.until
        chosen[stay.key, stay.index] = unit
    return chosen
