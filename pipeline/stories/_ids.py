"""Story ids that survive updates: a story keeps its id while it keeps most of its claims."""

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence

ClaimKey = tuple[str, str]  # (article id, claim id)


def fresh_id(members: Sequence[ClaimKey]) -> str:
    """From the story's first claim in (article, claim) order: the same claims, the same id."""
    first = min(members)
    return "s" + hashlib.sha256(f"{first[0]}:{first[1]}".encode()).hexdigest()[:12]


def _fallback_id(members: Sequence[ClaimKey], taken: set[str]) -> str:
    """From all the story's claims (and a counter, in the unlikely case that is taken too)."""
    joined = "|".join(f"{a}:{c}" for a, c in sorted(members))
    for attempt in range(len(taken) + 1):
        candidate = "s" + hashlib.sha256(f"{joined}#{attempt}".encode()).hexdigest()[:12]
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable: more candidates than ids taken")


def assign_ids(groups: Sequence[Sequence[ClaimKey]], previous: Mapping[ClaimKey, str]) -> list[str]:
    """An id per group. Each earlier id goes to the group holding most of its claims (largest
    overlaps first, so a story that grew keeps its id, and of a story that split the biggest part
    keeps it); groups left over get a fresh id."""
    overlaps: list[tuple[int, int, str]] = []
    for index, members in enumerate(groups):
        for old_id, shared in Counter(previous[m] for m in members if m in previous).items():
            overlaps.append((shared, index, old_id))
    overlaps.sort(key=lambda o: (-o[0], o[1], o[2]))
    ids: list[str | None] = [None] * len(groups)
    taken: set[str] = set()
    for _, index, old_id in overlaps:
        if ids[index] is None and old_id not in taken:
            ids[index] = old_id
            taken.add(old_id)
    for index, members in enumerate(groups):
        if ids[index] is None:
            candidate = fresh_id(members)
            if candidate in taken:  # the first claim moved from a story that kept its id
                candidate = _fallback_id(members, taken)
            ids[index] = candidate
            taken.add(candidate)
    return [i for i in ids if i is not None]
