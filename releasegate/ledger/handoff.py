"""Handing an act on: a write that lost the race for the shared branch leaves its act
on the remote, and the next writer to land takes it along.

With many writers, most of the work a lost race wastes is not the act but the round
trips of trying again: a fetch, a refused push, the branch moved and moved back, and
the remote's processes that serve them. An act of one patch (`rests_on`) that lost
pushes the commit it lost with to a ref of its own under refs/releasegate/pending/,
named like a claim on a turn (by the time its write began, and at random). Every write
fetches those refs with the branch. A writer about to push its own act puts each
act handed on that still holds on top of it, as commits of their own with their
authors and messages, and pushes the branch and the deletion of those refs in one
atomic push, each deletion on the condition that the ref still points at the act.
Meanwhile the act's own command waits, asking the remote now and then whether its
ref is still there; once it is gone it fetches and finds its act on the branch. On
a patch many writers record on, an act handed on is dropped whenever another act on
that patch lands first: an act already overtaken once on its patch is not handed on
again but tries again itself at once, and one that has lost CLAIM_AFTER races claims
a turn (`turns`).

Exactly once rests on the remote's atomic push: an act handed on lands only in a
push that deletes its ref, and a ref is deleted once. Its own command, trying again
itself, deletes the ref in the same way, so whichever push comes first lands it and
the other is refused as a lost race. An act that no longer holds (a change to its
patch or the pipeline landed first) is never taken along; its command works it out
again, and the next writer to land deletes its ref. An act handed on by a command
killed meanwhile may still be landed by another writer while it is live; once it is
not, the next writer deletes its ref. Running the killed command again finds the act
recorded, or records it once: the act it left no longer holds on top of the new one.

A command notes the act it hands on under .git/releasegate/handed-on/ before the
push, and drops the note once the act is settled (landed, taken back, or dropped).
A note left behind is a command killed meanwhile, since one command at a time writes
in a clone: the next write there takes that act back before it works, so running
the killed command again records the act once, and says what became of the one
left behind.

A remote without atomic pushes refuses the handing on, and the write tries again
itself, as it does on a remote that refuses such refs.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from releasegate.ledger import turns

PREFIX = "refs/releasegate/pending/"
LIVE_FOR = 60.0  # seconds an act handed on may be taken along
CARRY_AT_MOST = 8  # acts handed on that one push takes along
YIELDS_AT_MOST = 8  # pushes of a write that landed only older acts, beyond its tries
ASKS = 4  # times a write asks whether its act was taken, before trying itself
# Races lost before an act that may be handed on claims a turn instead (`turns`; other
# acts claim after turns.CLAIM_AFTER). Later than those: most acts handed on are taken
# along, and every claim makes the other writers wait.
CLAIM_AFTER = 5
# Seconds before the first ask and between the others, drawn at random. With eight
# writers on two cores, acts handed on were taken 0.95 s after at the median (the
# quickest tenth within 0.66 s, 90 in 100 within 1.26 s): asking sooner only costs
# the remote a process per ask.
ASK_FIRST = (0.4, 0.6)
ASK_EVERY = (0.15, 0.35)


def new_name(now: float) -> str:
    return turns.new_name(now)


def live(names: list[str], now: float) -> list[str]:
    """The acts handed on that may be taken along, oldest first."""
    return turns.live(names, now, LIVE_FOR, when=turns.made)


def expired(names: list[str], now: float) -> list[str]:
    """Acts handed on longer than LIVE_FOR ago: their commands are gone or gave up."""
    return turns.expired(names, now, LIVE_FOR, when=turns.made)


_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class Notes:
    """The acts this clone's commands handed on and have not settled yet."""

    def __init__(self, root: Path) -> None:
        self.folder = root / ".git" / "releasegate" / "handed-on"

    def note(self, name: str, commit: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(commit, encoding="ascii")
        tmp.replace(self.folder / name)

    def drop(self, name: str) -> None:
        with contextlib.suppress(OSError):
            (self.folder / name).unlink()

    def left(self) -> list[tuple[str, str]]:
        """The notes left behind (name, commit), oldest first; anything else in the
        folder (not a note releasegate wrote) is passed over."""
        found = []
        try:
            entries = sorted(os.scandir(self.folder), key=lambda entry: entry.name)
        except OSError:
            return []
        for entry in entries:
            if turns.made(entry.name) is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                with open(entry.path, "rb") as handle:
                    commit = handle.read(65).decode("ascii", "replace").strip()
            except OSError:
                continue
            if _COMMIT.fullmatch(commit):
                found.append((entry.name, commit))
        return found
