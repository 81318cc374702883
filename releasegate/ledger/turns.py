"""Turns on a shared ledger: an act that keeps losing the race for the shared branch
asks the other writers to let it land first.

Every write to a shared ledger races for one branch, and each landing has one winner.
With many writers, an act could lose race after race while fresh acts land, and give
up (exit status 3). After CLAIM_AFTER lost races (handoff.CLAIM_AFTER for an act that
may be handed on), an act pushes a claim: a ref of its own under
refs/releasegate/turns/, named by the time it was made (by the clock of the machine
that made it). Every write fetches the claims together with the branch. A
write that sees a live claim older than its own (or any live claim, when it holds
none) waits a moment and asks the remote for its claims again, GIVE_WAY times at
most, so the act that has waited longest lands next. The claimant deletes its claim
as soon as its act has landed (or when its command ends otherwise).

An act of one patch that may be handed on (`handoff`) claims its turn for that patch
alone: its ref is named under a folder for the patch (refs/releasegate/turns/<scope>/
<name>, the scope a digest of the patch id), and only writes whose act is on that
patch, or not known yet, or may rest on anything, give way to it. Acts on other
patches would not drop it: when they land first, they take it along. Any other act
claims a turn before every write.

A claim is only a request. The branch's compare-and-swap still decides every landing,
so a claim never lets in an act that would otherwise be refused. A claim that is lost
(a remote that refuses such refs, a command killed while it held one) costs time,
never correctness:
- a claim dated more than LIVE_FOR seconds away from the reader's clock counts for
  nothing, and the next command to release a claim deletes it;
- no claim is made on a remote that already holds MAX_CLAIMS, so a remote that keeps
  every claim (one that refuses deletions) never holds more than that.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PREFIX = "refs/releasegate/turns/"
CLAIM_AFTER = 3  # races lost before an act claims a turn
LIVE_FOR = 30.0  # seconds a claim counts, either side of the reader's clock
MAX_CLAIMS = 32  # claims on the remote beyond which no more are made
GIVE_WAY = 8  # times a write waits for others' claims at most
_NAME = re.compile(r"([0-9]{1,12})-[0-9a-f]{16}")
_SCOPED = re.compile(r"([0-9a-f]{12})/([^/]+)")  # a claim for the acts on one patch


@dataclass
class Turn:
    """One write's part in taking turns: its claim, and how often it gave way."""

    remote: str
    mine: str | None = None  # the claim's name on the remote, while it holds one
    claimed: str | None = None  # the claim it made, if any
    lost: int = 0  # races lost when it made its claim
    tried: bool = False  # a claim was made or tried for (at most once a write)
    gave_way: int = 0
    waited: float = 0.0  # seconds spent giving way
    scope: str | None = None  # the scope of the write's act, once known (`scope_of`)


def new_name(now: float) -> str:
    return f"{int(now)}-{os.urandom(8).hex()}"


def scope_of(patch: str) -> str:
    """The scope of claims for acts on `patch`: a digest, safe in a ref's name whatever
    the patch id."""
    return hashlib.sha256(patch.encode("utf-8")).hexdigest()[:12]


def new_claim(now: float, scope: str | None) -> str:
    """The name of a new claim, for the acts in `scope`, or before every act (None)."""
    name = new_name(now)
    return f"{scope}/{name}" if scope is not None else name


def claimed(name: str) -> tuple[str | None, int] | None:
    """A claim's scope (None: before every act) and when it was made, by its name;
    None for a name releasegate did not make."""
    found = _SCOPED.fullmatch(name)
    scope, rest = (found.group(1), found.group(2)) if found else (None, name)
    at = made(rest)
    return None if at is None else (scope, at)


def claim_made(name: str) -> int | None:
    """When a claim was made, whatever its scope; None for a name releasegate did
    not make."""
    found = claimed(name)
    return None if found is None else found[1]


def made(name: str) -> int | None:
    """When a claim (or an act handed on) was made, by its name; None for a name
    releasegate did not make."""
    found = _NAME.fullmatch(name)
    return int(found.group(1)) if found else None


When = Callable[[str], int | None]  # when a name says it was made


def live(names: Iterable[str], now: float, life: float | None = None,
         when: When = claim_made) -> list[str]:
    """The claims (or, `when` being `made`, acts handed on) that count, oldest first;
    names releasegate did not make are none."""
    life = LIVE_FOR if life is None else life
    dated = [(at, name) for name in names if (at := when(name)) is not None
             and abs(now - at) <= life]
    return [name for _, name in sorted(dated)]


def expired(names: Iterable[str], now: float, life: float | None = None,
            when: When = claim_made) -> list[str]:
    """Claims made longer than LIVE_FOR seconds ago: left by commands that are gone."""
    life = LIVE_FOR if life is None else life
    return [name for name in names
            if (at := when(name)) is not None and now - at > life]


def outranked(names: Iterable[str], mine: str | None, now: float,
              scope: str | None = None) -> bool:
    """Whether another act's claim comes before this write, whose act is in `scope`
    (None: not known yet, or it may rest on anything): any live claim it must wait
    for when it holds none, an older one when it does. It waits for claims before
    every act, and for those in its scope; a write of unknown scope, for all."""
    claims = [name for name in live(names, now)
              if name == mine or scope is None or (claimed(name) or (None, 0))[0] in (None, scope)]
    others = [name for name in claims if name != mine]
    if not others:
        return False
    return mine not in claims or claims.index(others[0]) < claims.index(mine)
