"""The ledger's height: the number of its newest commit, the ledger's own order of writes.

A promotion records the number of the commit it lands in, and baselines are ordered by
it. Counting every commit took 1.1 s on a ledger of 200,000 commits, and a shallow
clone (`git clone --depth 1`, as CI jobs clone) cannot count at all: it counted 1. So
every commit releasegate makes ends with a line `Ledger-Height: N`, and the height is
read from the newest commit that says it, plus the commits made after it with plain
git. `verify` checks every such line against the history.
"""

from __future__ import annotations

from releasegate.core.errors import InputError
from releasegate.ledger.store import GitStore

TRAILER = "Ledger-Height"
WALK = 1000  # commits without the line read back before the history is counted instead


def height_of(store: GitStore, commit: str) -> int | None:
    """The number of `commit` on the first-parent line (the first commit is 1); None
    when this clone's history is cut short before a commit that says its number. The
    line found is checked against the next one below it, so one written by hand with
    plain git (it would reorder baselines) stops the command. Known once per commit
    and store: a write asks for its parent's both for its board row and its commit."""
    if commit not in store.heights:
        store.heights[commit] = _counted(store, commit)
    return store.heights[commit]


def _counted(store: GitStore, commit: str) -> int | None:
    shallow = store.shallow_commits()
    found = _said_below(store, commit, shallow, WALK)
    if found is None:
        return None if shallow else int(store.run("rev-list", "--count", "--first-parent",
                                                  commit))
    said, steps, where, parent = found
    if said is None:
        return steps  # the first commit reached: counted
    below = _said_below(store, parent, shallow, WALK) if parent else None
    if below is not None and below[0] is not None and below[0] + below[1] + 1 != said:
        raise InputError(f"commit {where[:12]} says '{TRAILER}: {said}' but the line "
                         f"{below[1] + 1} commit(s) below it says {below[0]}: a height "
                         "line was written by hand; nothing was recorded",
                         code="ledger-corrupt", hint="`releasegate verify` names the "
                         "commit; ask whoever wrote it to restore the history")
    return said + steps


def _said_below(store: GitStore, commit: str, shallow: set[str],
                limit: int) -> tuple[int | None, int, str, str | None] | None:
    """From `commit` down its first parents: the first height line (its value, how
    many commits below `commit`, the commit saying it, its parent), or (None, the
    count, ...) at the first commit; None when the history is cut short or `limit`
    commits say nothing."""
    current = commit
    for steps in range(limit):
        record = store.commit_record(current)
        if record is None:
            return None
        parents, message = record
        said = said_height(message)
        if said is not None:
            return said, steps, current, parents[0] if parents else None
        if not parents:
            return None, steps + 1, current, None
        if current in shallow:
            return None
        current = parents[0]
    return None


def known_height(store: GitStore, commit: str) -> int:
    """height_of, or a clear refusal where this clone cannot know it."""
    height = height_of(store, commit)
    if height is None:
        raise InputError("this clone's history is cut short (a shallow clone) before a "
                         "commit that says its number, so the ledger's height, which a "
                         "promotion records, cannot be known; nothing was recorded",
                         code="shallow", hint="fetch the whole history once with "
                         "`git fetch --unshallow`, then retry")
    return height


def said_height(message: str) -> int | None:
    """The number a commit message's `Ledger-Height:` line gives; None without one."""
    for line in reversed(message.splitlines()):
        if line.startswith(f"{TRAILER}:"):
            value = line[len(TRAILER) + 1:].strip()
            return int(value) if value.isdigit() else None
    return None


def with_height(message: str, height: int | None) -> str:
    """`message` ending with the line that gives the commit's number (unchanged when
    the number is not known)."""
    if height is None:
        return message
    body = message.rstrip("\n")
    gap = "\n" if "\n\n" in body else "\n\n"  # a line of the body, or a body of its own
    return f"{body}{gap}{TRAILER}: {height}\n"


def without_height(message: str) -> str:
    """`message` without the line that gives a commit's number (for the same act
    committed again elsewhere, where it gets the number of its new place)."""
    lines = message.rstrip("\n").split("\n")
    if len(lines) > 1 and lines[-1].startswith(f"{TRAILER}:"):
        lines.pop()
        while lines and not lines[-1]:
            lines.pop()
    return "\n".join(lines) + "\n"
