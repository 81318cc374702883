"""The git-backed event store: discovery, committed snapshots, optimistic transactions.

releasegate reads only what is committed. A write is an optimistic transaction:
read the branch head, let the operation validate against the state there and name
the files it adds, build a tree from the old one, commit, and advance the branch
only if it still points where it did. On a lost race the operation runs again from
the start, against the new head, so it is validated again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from releasegate.core.errors import (
    ContentionError,
    InputError,
    NotFoundError,
    ReleasegateError,
    UsageError,
)
from releasegate.ledger import handoff, turns
from releasegate.ledger.courtesy import CourtesyCopy
from releasegate.ledger.events import PATCHES, parse_event, patch_folders, seq_of
from releasegate.ledger.height import height_of, with_height, without_height
from releasegate.ledger.history import LOCAL, REMOTE, History
from releasegate.ledger.lock import CloneLock
from releasegate.ledger.pipeline import CHECKLISTS, CONFIG_FILE
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.steps import reached
from releasegate.ledger.store import (
    REPLACED,
    ZERO,
    Author,
    BranchLocked,
    GitStore,
    NoAtomicPush,
    one_line,
)
from releasegate.ledger.turns import Turn

T = TypeVar("T")
SYSTEM = Author("releasegate", "releasegate@releasegate.invalid")
ATTEMPTS = 10  # tries of a write before giving up with exit status 3
YIELDED = "an act handed on earlier by another writer, on the same patch, went first"


def backoff(took: float) -> float:
    """Seconds to wait after a lost race, whose try took `took` seconds, before trying
    again: one unit, between half and one and a half times that, so writers that lost
    the same race spread out. A unit is half the time the lost try took here, between
    50 and 500 ms, so on a busy machine, where every try takes longer, the wait
    stretches with it. An act that keeps losing claims a turn (`turns`) and waits no
    more. Measured with 8 writers x 50 acts (benchmarks/README.md): a wait that doubles
    left the acts that lost most waiting ever longer while fresh acts took every turn;
    waits of 5 units down to 1 kept every act landing, but the acts that lost a race
    or two slept through most of their latency (p95 4.9 to 5.8 s, against 4.3 s)."""
    unit = min(0.5, max(0.05, took / 2))
    return float(unit * random.uniform(0.5, 1.5))


@dataclass(frozen=True)
class Upstream:
    remote: str
    merge: str


@dataclass(frozen=True)
class Pulled:
    """What a pull found: the shared branch's commit, the paths that arrived, and the
    acts recorded here that never reached the remote and were dropped."""

    theirs: str | None
    arrived: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


@dataclass
class Write(Generic[T]):
    """What an operation wants recorded: new files, a commit message, and its result."""

    files: Mapping[str, bytes | Path]  # a Path is streamed into git, never read whole
    message: str
    result: T
    author: Author | None = None


# An act worked out on one head: that head, the write, its files' blob ids, the warnings.
Carried = tuple[str | None, Write[T], dict[str, str], list[str]]


def unchanged(result: T) -> Write[T]:
    """An outcome that records nothing (already done, or a closed gate)."""
    return Write({}, "", result)


class Ledger:
    """A ledger repository on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = GitStore(root)
        self.courtesy = CourtesyCopy(self.store)
        self.history = History(self.store)
        self.accept_rewrite = False  # `verify --accept-rewrite`, after a person checked
        self._locked: BranchLocked | None = None  # the branch's lock refused the last try
        self._ref: str | None = None
        self._repaired = False
        self._turn: Turn | None = None  # while a write to a shared ledger runs
        self._lost: str | None = None  # the last lost race's act, alone on the fetched head
        self._fetched: str | None = None  # the shared branch's commit, just fetched
        self._notes = handoff.Notes(root)
        self._handing: tuple[str, str] | None = None  # this write's act handed on (`_handed`)
        self._may_hand_on = True  # false once the remote would not take an act handed on
        self._disowned: set[str] = set()  # acts of killed commands here: never taken along
        self._taken: tuple[str, str] | None = None  # others' acts the last push landed
        self._arrived: list[tuple[str, str]] = []  # the write's (`transact`)
        self._free = 0  # tries that do not count against the attempts (`_tries`)
        self._moved_under = False  # the act's patch moved under it during this write
        self._began = 0.0  # when this write began (`time.time()`)

    @property
    def _handed(self) -> tuple[str, str] | None:
        """This write's act handed on (its ref's name, and the commit), while unsettled;
        noted in the clone (`handoff.Notes`) for as long as that lasts."""
        return self._handing

    @_handed.setter
    def _handed(self, value: tuple[str, str] | None) -> None:
        if self._handing is not None and self._handing != value:
            self._notes.drop(self._handing[0])
        if value is not None:
            self._notes.note(*value)
        self._handing = value

    @classmethod
    def discover(cls, explicit: str | None, environ: Mapping[str, str], cwd: Path) -> Ledger:
        """--ledger, else RELEASEGATE_LEDGER, else the nearest folder upwards."""
        given = explicit or environ.get("RELEASEGATE_LEDGER")
        if given:
            root = Path(given).expanduser().resolve()
            if not (root / CONFIG_FILE).is_file() or not (root / ".git").exists():
                source = "--ledger" if explicit else "RELEASEGATE_LEDGER"
                raise UsageError(f"{root} is not a releasegate ledger (given by {source})",
                                 hint="run `releasegate init DIR` to make one", code="no-ledger")
            return cls(root)
        for folder in [cwd.resolve(), *cwd.resolve().parents]:
            if (folder / CONFIG_FILE).is_file() and (folder / ".git").exists():
                return cls(folder)
        raise UsageError(f"no releasegate ledger in {cwd} or any folder above it",
                         hint="pass --ledger DIR, set RELEASEGATE_LEDGER, or run "
                              "`releasegate init`", code="no-ledger")

    @property
    def ref(self) -> str:
        """The branch writes advance; a detached checkout can be read, not written."""
        if self._ref is None:
            self._ref = self.store.branch_ref()
        if self._ref is None:
            raise UsageError(f"the ledger in {self.root} is on a detached HEAD; releasegate "
                             "records on a branch", code="detached-head",
                             hint="check out the ledger's branch, e.g. `git checkout main` "
                                  "(CI checkouts are often detached)")
        return self._ref

    def require_branch(self) -> str:
        """The branch writes go to; UsageError on a detached checkout."""
        return self.ref

    def snapshot(self) -> Snapshot:
        """The committed state at the branch head (or the detached HEAD, for reading).
        The first snapshot also finishes the courtesy copy of a write killed earlier."""
        if self._ref is None:
            head, self._ref = self.store.head_and_branch()  # None: detached, read-only
        else:
            head = self.store.resolve(self._ref)
        self.history.check(LOCAL, head, accept=self.accept_rewrite)
        snap = Snapshot(self.store, head)
        if not self._repaired:
            self._repaired = True
            if self.courtesy.unfinished():
                with CloneLock(self.root):
                    snap.warnings += self.courtesy.repair(self.store.resolve("HEAD"))
        return snap

    def resolve_patch(self, snap: Snapshot, patch: str) -> str:
        """The patch id as recorded, found case-insensitively; NotFoundError otherwise."""
        from releasegate.ledger.ids import check_id

        check_id("patch id", patch)
        found = snap.patch_id(patch)
        if found is None:
            from releasegate.core.errors import did_you_mean

            raise NotFoundError(f"unknown patch '{patch}'", code="unknown-patch",
                                hint=did_you_mean(patch, snap.patch_dirs().values())
                                or "see `releasegate patch list`")
        return found

    def transact(self, operation: Callable[[Snapshot], Write[T]],
                 author: Author = SYSTEM, *, attempts: int = ATTEMPTS,
                 own_patch_only: bool = False) -> tuple[T, list[str]]:
        """Run `operation` against the head and record what it returns, atomically.

        Returns the operation's result and the warnings gathered; a Write without
        files records nothing. Writers in this clone take turns (CloneLock). A race
        lost to another clone runs the operation again on the new head, unless
        nothing the write rests on changed there: then the same write is committed on
        top of the new head, without doing its work again. `own_patch_only` (an act
        that reads only its own patch and the pipeline) works it out on the clone's
        head before the shared ledger is fetched.
        """
        upstream = self.upstream()
        arrived: list[tuple[str, str]] = []  # (old, new) heads others' acts came between
        self._arrived = arrived
        self._began = time.time()
        self._lost = self._fetched = self._taken = None
        self._free, self._may_hand_on, self._moved_under = 0, True, False
        with CloneLock(self.root) as lock:
            reached("locked")
            self._turn = Turn(upstream.remote) if upstream is not None else None
            try:
                ahead = self._ahead(operation) if upstream is not None and own_patch_only \
                    else None
                if ahead is not None:
                    self._know_scope(ahead[1])
                return self._attempts(operation, author, attempts, upstream, lock, arrived,
                                      ahead, own_patch_only)
            except ReleasegateError as exc:
                if upstream is not None and not self._withdraw(upstream):
                    exc.hint = (f"{exc.hint + '; ' if exc.hint else ''}the act was handed on "
                                f"to the other writers on {upstream.remote} and may still be "
                                "recorded by one of them: run `releasegate sync` and look "
                                "before repeating it")
                raise
            finally:
                if upstream is not None:
                    self._withdraw(upstream)
                self._release_turn()
                self._turn = None
                if arrived:  # out of the race's window: the courtesy copy of others' acts
                    # Up to where the branch is now: an act worked out again after its
                    # push landed only others' acts replaces a board row after them.
                    self._catch_up(arrived[0][0], self.store.resolve(self.ref)
                                   or arrived[-1][1])
                self.store.settle_fetches()

    def _attempts(self, operation: Callable[[Snapshot], Write[T]], author: Author,
                  attempts: int, upstream: Upstream | None, lock: CloneLock,
                  arrived: list[tuple[str, str]], carried: Carried[T] | None,
                  own_patch_only: bool) -> tuple[T, list[str]]:
        notes: list[str] = self._take_back_left(upstream) if upstream is not None else []
        retried: list[str] = []
        if lock.waited > 1:
            notes.append(f"waited {lock.waited:.1f} s for another releasegate command "
                         "writing to this clone")
        for attempt in self._tries(attempts):
            self._locked = None  # set by this try when git's lock on the branch refuses it
            began = self._busy()
            fetched: str | None = None
            if carried is not None and upstream is not None:
                how, said, fetched = self._carry(upstream, carried, author, arrived)
                if how == "taken" and fetched is not None:
                    return self._taken_along(upstream, carried, fetched, arrived, notes,
                                             retried)
                if how == "landed":
                    notes += self._retry_notes(retried)
                    return carried[1].result, [*notes, *carried[3], *said]
                if how == "lost":
                    retried.append(self._locked.message if self._locked is not None
                                   else f"{upstream.remote} moved before the push")
                    taken = self._hand_on(upstream, carried, attempt, self._busy() - began)
                    if taken is not None:
                        return self._taken_along(upstream, carried, taken, arrived, notes,
                                                 retried)
                    continue
                if how == "yielded":  # worked out again below, on the head just pushed
                    self._free += 1
                    retried.append(YIELDED)
                if how == "again" and self._handed is not None:
                    # It no longer holds, so no one takes it along: the act worked
                    # out anew is the one to hand on.
                    self._withdraw(upstream)
            pulled = self.pull(upstream, arrived, fetched) if upstream is not None \
                else Pulled(None)
            notes += dropped_notes(pulled, upstream)
            snap = self.snapshot()
            if carried is not None and self._still_holds(carried[0], snap.head,
                                                         rests_on(carried[1])):
                outcome, blobs = carried[1], carried[2]
                snap.warnings += [w for w in carried[3] if w not in snap.warnings]
            else:
                # Worked out (again) on the fetched head: its patch moved under the
                # act worked out ahead, or under the try that lost.
                self._moved_under = carried is not None or self._moved_under
                outcome, blobs = operation(snap), {}
                reached("worked-out")
                self._know_scope(outcome)
                if not outcome.files:
                    self._push_pending(upstream, pulled, snap)
                    return outcome.result, [*notes, *snap.warnings]
            why = self._commit(snap, outcome, author, upstream, blobs)
            if why is None:
                self._note_taken(arrived)
                notes += self._retry_notes(retried)
                return outcome.result, [*notes, *snap.warnings]
            retried.append(why)
            if why == YIELDED:  # worked out again at once, on the head just pushed
                carried = None
                self._free += 1
                self._moved_under = True
                self._note_taken(arrived)
                continue
            carried = (snap.head, outcome, blobs, list(snap.warnings)) if own_patch_only \
                else None
            if carried is not None and upstream is not None:
                taken = self._hand_on(upstream, carried, attempt, self._busy() - began)
                if taken is not None:
                    return self._taken_along(upstream, carried, taken, arrived, notes,
                                             retried)
            else:
                self._wait_after_loss(attempt, self._busy() - began)
        if upstream is not None and carried is not None and self._handed is not None \
                and not self._withdraw(upstream):
            theirs = self._fetch(upstream)
            if theirs is not None and self._landed(theirs, carried):
                return self._taken_along(upstream, carried, theirs, arrived, notes, retried)
        if self._locked is not None:
            raise BranchLocked(f"gave up after {attempts} attempts: {retried[-1]}; nothing "
                               "was recorded", hint=self._locked.hint)
        raise ContentionError(f"gave up after {attempts} attempts: {retried[-1]}; nothing "
                              "was recorded", hint="retry the command")

    def _tries(self, attempts: int) -> Iterator[int]:
        """The numbers of a write's tries: `attempts`, and one more for each push that
        landed only older acts handed on (`_land`), which is others' progress, not a
        lost race (YIELDS_AT_MOST more at most)."""
        attempt = 0
        while attempt < attempts + min(self._free, handoff.YIELDS_AT_MOST):
            yield attempt
            attempt += 1

    def _busy(self) -> float:
        """A clock of the time this write spent other than giving way to others."""
        return time.monotonic() - (self._turn.waited if self._turn is not None else 0.0)

    def _wait_after_loss(self, attempt: int, took: float,
                         claim_after: int = turns.CLAIM_AFTER, scoped: bool = False) -> None:
        """Wait before trying again after the `attempt`-th lost race, having claimed a
        turn on the shared ledger once `claim_after` races were lost (`turns`): an act
        holding a claim tries again at once, as the others give way (those whose act
        is on the same patch, when `scoped`; else all)."""
        turn = self._turn
        if turn is not None and self._may_claim(attempt, claim_after):
            turn.tried = True
            head = self.store.fetched_head
            if head is not None and len(self.store.turns) < turns.MAX_CLAIMS:
                name = turns.new_claim(time.time(), turn.scope if scoped else None)
                if self.store.push_refs(turn.remote, [f"{head}:{turns.PREFIX}{name}"]):
                    turn.mine = turn.claimed = name
                    turn.lost = attempt + 1
        if turn is None or turn.mine is None:
            time.sleep(backoff(took))
        # else no wait: the others give way from their next fetch

    def _claims_turn(self) -> bool:
        """Whether this write holds a claim on a turn (`turns`)."""
        return self._turn is not None and self._turn.mine is not None

    def _know_scope(self, write: Write[Any]) -> None:
        """Note the scope of this write's act (`turns.scope_of` its patch), when it is
        an act of one patch: it gives way only to the claims that concern it."""
        paths = rests_on(write)
        if self._turn is not None and paths is not None:
            self._turn.scope = turns.scope_of(paths[0].split("/")[1])

    def _may_claim(self, attempt: int, claim_after: int) -> bool:
        """Whether this write is to claim a turn after its `attempt`-th lost race: once
        a write, after `claim_after` lost races."""
        return self._turn is not None and not self._turn.tried and \
            attempt + 1 >= claim_after

    # -- handing an act on (`handoff`) -------------------------------------------------

    def _hand_on(self, upstream: Upstream, carried: Carried[Any], attempt: int,
                 took: float) -> str | None:
        """After a lost race: hand the act on (once a write), then wait a little for
        another writer to take it along. The commit the shared ledger is at once it
        did; None when this write is to try again itself (at once, having waited).

        An act whose patch moved under it earlier in this write is not handed on
        while it holds no claim on a turn: on a patch others record on, an act handed
        on is dropped whenever another act on that patch lands first. It fetches and
        tries again at once. And an act that lost handoff.CLAIM_AFTER races claims
        the next turn (`turns`) and tries again itself while the others give way."""
        if self._may_claim(attempt, handoff.CLAIM_AFTER):
            # Only acts on its patch (the scope noted when it was worked out) would
            # drop it; the others, landing first, take it along, so they need not wait
            # (unless nobody can take it along).
            self._wait_after_loss(attempt, took, handoff.CLAIM_AFTER,
                                  scoped=self._may_hand_on)
            return None
        if self._handed is None and self._moved_under and self._locked is None \
                and not self._claims_turn():
            # Others record on its patch (it moved under the act before): handed on,
            # it would be dropped whenever one of their acts landed first, after a
            # wait. It looks at the shared ledger at once and tries again itself, as
            # it is if its patch did not move, else worked out anew. (Once it holds a
            # claim on its patch's turn, those writers wait for it: handed on, it is
            # taken along by the others. A branch locked here is waited for as ever.)
            self._fetched, self._lost = self._fetch(upstream), None
            return None
        if self._handed is None:
            lost, self._lost = self._lost, None
            # Named by when the write began, so that of two acts on one patch the one
            # begun first goes first (`_take_along`), however often it was handed on.
            name = handoff.new_name(self._began)
            if lost is None or not self._may_hand_on:
                self._wait_after_loss(attempt, took)
                return None
            self._handed = (name, lost)  # noted before it is on the remote
            if not self.store.hand_on(upstream.remote, lost, f"{handoff.PREFIX}{name}"):
                self._handed = None
                self._may_hand_on = False
                self._wait_after_loss(attempt, took)
                return None
            reached("handed-on")
        ref = f"{handoff.PREFIX}{self._handed[0]}"
        for ask in range(handoff.ASKS):
            time.sleep(random.uniform(*(handoff.ASK_EVERY if ask else handoff.ASK_FIRST)))
            if self.store.has_remote_ref(upstream.remote, ref) is False:
                break
        else:
            return None  # still there: try again, its ref deleted with the push
        theirs = self._fetch(upstream)
        self._handed = None  # landed, or dropped: it no longer held, or expired
        if theirs is not None and self._landed(theirs, carried):
            return theirs
        self._fetched = theirs  # for the next try
        return None

    def _take_back_left(self, upstream: Upstream) -> list[str]:
        """Take back the acts that commands killed in this clone had handed on (this
        write holds the clone's lock, so their commands are gone), and say what became
        of each: taken back, or recorded meanwhile (by another writer, or by a push of
        this clone that took it along and was itself killed before its push, then
        pushed with the clone's next write)."""
        left = self._notes.left()
        if not left:
            return []
        acts = self.store.handed_on([commit for _, commit in left])
        taken_back = {name: self.store.withdraw(upstream.remote, f"{handoff.PREFIX}{name}",
                                                commit) for name, commit in left}
        theirs = self.store.fetch(upstream.remote, upstream.merge)
        said = []
        for name, commit in left:
            act = acts.get(commit)
            summary = one_line((self.store.act_summary(commit) if act else None)
                               or commit[:12], 120)
            recorded = act is not None and theirs is not None and \
                self._holds_files(theirs, act.files)
            if recorded:
                said.append(f"an act a command killed in this clone had handed on to the "
                            f"other writers on {upstream.remote} was recorded meanwhile: "
                            f"'{summary}'; if this command repeats it, it is now recorded "
                            "twice")
            elif taken_back[name]:
                said.append(f"took back an act a command killed in this clone had handed on "
                            f"to the other writers on {upstream.remote}, not recorded: "
                            f"'{summary}'")
            else:
                self._disowned.add(name)
                said.append(f"an act a command killed in this clone had handed on to the "
                            f"other writers on {upstream.remote} could not be taken back "
                            f"and may still be recorded by one of them: '{summary}'; look "
                            "before repeating it")
            self._notes.drop(name)
        return said

    def _landed(self, head: str, carried: Carried[Any]) -> bool:
        """Whether the act this write carries is on `head` as this write stored it."""
        blobs = carried[2]
        return self._holds_files(head, {path: blobs.get(path) for path in carried[1].files})

    def _holds_files(self, head: str, files: Mapping[str, str | None]) -> bool:
        """Whether an act's files (path -> blob id) are on `head`, blob for blob, other
        than its board row, which later acts may replace."""
        added = {path: blob for path, blob in files.items() if not path.startswith(REPLACED)}
        return bool(added) and self.store.blob_ids(head, list(added)) == added

    def _taken_along(self, upstream: Upstream, carried: Carried[T], theirs: str,
                     arrived: list[tuple[str, str]], notes: list[str],
                     retried: list[str]) -> tuple[T, list[str]]:
        """The act was landed by another writer's push: come up to it."""
        self._handed = None
        pulled = self.pull(upstream, arrived, theirs)
        notes += [*dropped_notes(pulled, upstream), *self._retry_notes(retried),
                  f"handed the act on after a lost race; another writer's push recorded "
                  f"it on {upstream.remote}"]
        return carried[1].result, [*notes, *carried[3]]

    def _withdraw(self, upstream: Upstream) -> bool:
        """Take back the act this write handed on, if any; False when it could not (it
        was taken along meanwhile, or the remote cannot be reached)."""
        if self._handed is None:
            return True
        (name, commit), self._handed = self._handed, None
        return self.store.withdraw(upstream.remote, f"{handoff.PREFIX}{name}", commit)

    def _dropping(self) -> dict[str, str]:
        """The refs of acts handed on that a push deletes whatever it takes along (ref ->
        the commit it must still point at): this write's own, those of commands killed
        in this clone, and expired ones."""
        own = self._handed[0] if self._handed is not None else None
        deleting = {f"{handoff.PREFIX}{own}": self._handed[1]} if self._handed else {}
        deleting.update({f"{handoff.PREFIX}{name}": sha for name, sha
                         in self.store.pending.items() if name in self._disowned})
        if self._may_hand_on:
            expired = handoff.expired([name for name in self.store.pending if name != own],
                                      time.time())
            deleting.update({f"{handoff.PREFIX}{name}": self.store.pending[name]
                             for name in expired[:handoff.CARRY_AT_MOST]})
        return deleting

    def _take_along(self, parent: str, top: str, height: int | None, older: bool | None
                    ) -> tuple[str, dict[str, str], list[str], int | None]:
        """The acts other writers handed on that still hold on top of `top` (`parent`,
        the fetched head, or this write's commit on it), committed in turn on it, the
        first with the number `height`: those of writes begun before this one, or in
        the same second (`older`), the others (not `older`), or all (None). The last
        commit, the refs to delete with the push (ref -> the commit it must still point
        at; those no longer holding included), the paths they add, and the next
        commit's number."""
        own = self._handed[0] if self._handed is not None else None
        began = int(self._began)
        others = {name: sha for name, sha in self.store.pending.items()
                  if name != own and name not in self._disowned and (
                      older is None or ((turns.made(name) or 0) <= began) == older)}
        deleting: dict[str, str] = {}
        if not others or not self._may_hand_on:
            return top, deleting, [], height
        names = handoff.live(list(others), time.time())[:handoff.CARRY_AT_MOST]
        acts = self.store.handed_on([others[name] for name in names])
        paths = []
        for name in names:
            act = acts.get(others[name])
            rests = rests_on_paths(list(act.files)) if act is not None else None
            if act is None or rests is None or not self.store.is_ancestor(act.parent, parent):
                continue
            if self.store.changed_under(act.parent, top, rests):
                # It can never hold again (a patch's folder only grows): its ref goes
                # with this push, and its command, finding it gone but not landed,
                # works the act out again at once instead of waiting for it.
                deleting[f"{handoff.PREFIX}{name}"] = others[name]
                continue
            if not self._chains_on(top, rests[0], act.files):
                continue
            tree = self.store.build_tree(top, act.files)
            top = self.store.commit(tree, top, with_height(without_height(act.message), height),
                                    act.author)
            height = None if height is None else height + 1
            deleting[f"{handoff.PREFIX}{name}"] = others[name]
            paths += list(act.files)
        return top, deleting, paths, height

    def _chains_on(self, head: str, folder: str, files: Mapping[str, str]) -> bool:
        """Whether an act handed on adds one event to the patch's chain at `head` (the
        next number, chained to the last event there), and nothing else to its list
        of events: a ref under pending/ is not evidence until it is checked."""
        events = f"{folder}events"
        new = [path for path in files if path.startswith(f"{events}/")]
        if len(new) != 1:
            return False
        snap = Snapshot(self.store, head)
        snap.prefetch([events], read=False)  # the listing; of the events, the last is read
        recorded = sorted(snap.paths(events), key=seq_of)
        try:
            last_raw = snap.read(recorded[-1]) if recorded else None
            last = parse_event(recorded[-1], last_raw, None, chained=False) \
                if recorded and last_raw is not None else None
            raw = self.store.read_blobs([files[new[0]]]).get(files[new[0]])
            event = parse_event(new[0], raw, last) if raw is not None else None
        except (InputError, ValueError):  # not UTF-8, or not an event
            return False
        number = (last.seq if last else 0) + 1
        return event is not None and event.seq == number == seq_of(new[0]) and \
            f"{PATCHES}/{event.patch}/" == folder

    def _note_taken(self, arrived: list[tuple[str, str]]) -> None:
        """Others' acts this write's push took along arrive in the working tree after."""
        if self._taken is not None:
            arrived.append(self._taken)
        self._taken = None

    def _retry_notes(self, retried: list[str]) -> list[str]:
        notes = [_retry_note(retried)] if retried else []
        if self._turn is not None and self._turn.claimed:
            notes.append(f"claimed the next turn on {self._turn.remote} after "
                         f"{self._turn.lost} lost races, so that other writers wait for it")
        if self._turn is not None and self._turn.gave_way:
            notes.append(f"gave way {self._turn.gave_way} time(s) to an act that had lost "
                         f"more races for {self._turn.remote}")
        return notes

    def _release_turn(self) -> None:
        """Delete this write's claim on a turn, if it holds one, and the claims that
        expired (their commands are gone), for what it is worth."""
        turn = self._turn
        if turn is None or turn.mine is None:
            return
        mine, turn.mine = turn.mine, None
        stale = [name for name in turns.expired(self.store.turns, time.time()) if name != mine]
        self.store.push_refs(turn.remote, [f":{turns.PREFIX}{name}" for name in [mine, *stale]])

    def _carry(self, upstream: Upstream, carried: Carried[Any], author: Author,
               arrived: list[tuple[str, str]]) -> tuple[str, list[str], str | None]:
        """Land an act worked out on an earlier head, when nothing it rests on changed
        since: fetch, and commit it on the shared ledger's new head as it is, without
        pulling first (the local branch moves only with the write). "landed" (with
        warnings), "lost" (someone was first again; nothing changed here), "again"
        (work it out anew on a pulled head), "yielded" (the same, after a push that
        landed older acts handed on, which went first) or "taken" (another writer
        landed it), and the commit fetched or pushed, if any."""
        validated_on, write, blobs, _ = carried
        paths = rests_on(write)
        if validated_on is None or paths is None:
            return "again", [], None
        theirs, self._fetched = self._fetched or self._fetch(upstream), None
        if theirs is not None and self._handed is not None and self._landed(theirs, carried):
            return "taken", [], theirs
        # Acts of this clone not pushed yet (the head is not below theirs) are the
        # pull's to settle.
        if theirs is None or (theirs != validated_on and (
                not self.store.is_ancestor(validated_on, theirs)
                or self.store.changed_under(validated_on, theirs, paths))):
            return "again", [], theirs
        how, warnings = self._land(write, author, upstream, blobs, theirs, validated_on)
        if how in ("landed", "yielded") and theirs != validated_on:
            arrived.append((validated_on, theirs))
        if how in ("landed", "yielded"):
            self._note_taken(arrived)
        if how == "yielded":
            return "yielded", [], self.store.resolve(self.ref)
        return {"landed": "landed", "moved": "again"}.get(how, "lost"), warnings, None

    def _ahead(self, operation: Callable[[Snapshot], Write[T]]) -> Carried[T] | None:
        """The act worked out on this clone's own head before the shared ledger is
        fetched, with its files stored, when it rests on nothing but its own patch and
        the pipeline: if those did not change on the shared ledger either, it is
        committed on the fetched head as it is, so the race with other clones spans
        only the fetch, the commit and the push. Anything else (a refusal here, which
        the fetched head may not share) leaves the act to be worked out there."""
        try:
            snap = self.snapshot()
            outcome = operation(snap)
        except ReleasegateError:
            return None
        if not outcome.files or rests_on(outcome) is None:
            return None
        return snap.head, outcome, self._write_blobs(outcome, {}), list(snap.warnings)

    def _write_blobs(self, write: Write[Any], blobs: dict[str, str]) -> dict[str, str]:
        """The write's files stored as blobs (those not stored yet), by path."""
        self.courtesy.refuse_links(list(write.files))
        for path, data in write.files.items():
            if path not in blobs:
                blobs[path] = self.store.write_blob_file(data) if isinstance(data, Path) \
                    else self.store.write_blob(data)
        return blobs

    def _still_holds(self, validated_on: str | None, head: str | None,
                     paths: tuple[str, ...] | None) -> bool:
        """Whether a write validated on `validated_on` holds on `head` as it is: none
        of the `paths` it rests on changed in between."""
        if paths is None or validated_on is None or head is None:
            return False
        return head == validated_on or not self.store.changed_under(validated_on, head,
                                                                    paths)

    def _commit(self, snap: Snapshot, write: Write[Any], author: Author,
                upstream: Upstream | None, blobs: dict[str, str]) -> str | None:
        """Record `write` on top of the snapshot's head; None when it landed, else why
        not (the race that was lost). `blobs` keeps the files' blob ids across tries."""
        how, warnings = self._land(write, author, upstream, blobs, snap.head, snap.head)
        snap.warnings += warnings
        if how == "landed":
            return None
        if how == "yielded":
            return YIELDED
        if how == "moved":
            return "the branch moved while writing"
        if how == "locked" and self._locked is not None:
            return self._locked.message
        return f"{upstream.remote if upstream else ''} moved before the push"

    def _land(self, write: Write[Any], author: Author, upstream: Upstream | None,
              blobs: dict[str, str], parent: str | None,
              local: str | None) -> tuple[str, list[str]]:
        """Commit `write` on `parent`, move the branch from `local` (where this clone
        has it) to that commit, push it, and copy its files into the working tree.
        "landed" with the copy's warnings, or why not, nothing changed: "moved" (the
        branch is no longer at `local`), "locked" (git's lock on the branch) or
        "lost" (the shared ledger moved before the push); or "yielded": the push
        landed only acts others handed on, one of which changed what this act rests
        on, so it is to be worked out again.

        Acts handed on go first, oldest first, when this act says what it rests on,
        so that an act that lost on a busy patch is not overtaken by fresh ones; an
        act that may rest on anything (a promotion) goes first itself."""
        self._write_blobs(write, blobs)
        reached("stored")
        height = self._next_height(parent)
        rests = rests_on(write)
        shared = upstream is not None and parent is not None
        base, yields = parent, False
        deleting = self._dropping() if shared else {}
        along: list[str] = []
        if shared and parent is not None and rests is not None:
            base, first, along, height = self._take_along(parent, parent, height, older=True)
            deleting.update(first)
            yields = base != parent and self.store.changed_under(parent, base, rests)
        commit = None if yields else self.store.commit(
            self.store.build_tree(base, blobs), base, with_height(write.message, height),
            write.author or author)
        top = commit or base
        if shared and parent is not None and commit is not None:
            next_height = None if height is None else height + 1
            top, after, later, _ = self._take_along(
                parent, commit, next_height, older=None if rests is None else False)
            deleting.update(after)
            along += later
        assert top is not None
        reached("committed")
        reason = f"releasegate: {write.message.splitlines()[0]}"
        marker = self.courtesy.expect(top, [*([] if yields else write.files), *along])
        reached("marked")
        try:
            try:
                if not self.store.compare_and_swap(self.ref, top, local, reason):
                    return "moved", []
            except BranchLocked as exc:
                self._locked = exc
                return "locked", []
            reached("moved")
            if upstream is not None:
                try:
                    self.store.push(upstream.remote, self.ref, upstream.merge, deleting)
                except ContentionError as exc:
                    if isinstance(exc, NoAtomicPush):
                        self._may_hand_on = False  # nor can it take others' acts along
                    self._undo(top, local)
                    self._lost = commit if commit is None or base == parent else \
                        self.store.commit(self.store.build_tree(parent, blobs), parent,
                                          with_height(write.message, self._next_height(parent)),
                                          write.author or author)  # as handed on: alone
                    return "lost", []
                except BaseException:
                    self._undo(top, local)
                    raise
                reached("pushed")
                self._handed = None
                # Others' acts this push landed, for the working tree (`_catch_up`).
                self._taken = (parent, top) if along and parent is not None else None
                if yields:
                    return "yielded", []
                self._release_turn()  # the others wait for it
            warnings = self.courtesy.write(write.files, blobs,
                                           self._replacing(write, parent, local))
            reached("copied")
        finally:
            self.courtesy.settle(marker)
        return "landed", warnings

    def _replacing(self, write: Write[Any], parent: str | None,
                   local: str | None) -> dict[str, set[str]]:
        """The versions of the files `write` replaces (board rows) that the working
        tree may hold untouched, by path: as on `parent`, where the write is recorded,
        and as where the working tree was last brought in step (the head before this
        write's fetches, when others' acts arrived meanwhile: `_catch_up` comes
        after), so that a row a person did not edit is replaced without a word."""
        paths = [path for path in write.files if path.startswith(REPLACED)]
        if not paths:
            return {}
        copied = self._arrived[0][0] if self._arrived else local
        found: dict[str, set[str]] = {}
        for head in dict.fromkeys([parent, copied]):
            if head is not None:
                for path, blob in self.store.blob_ids(head, paths).items():
                    found.setdefault(path, set()).add(blob)
        return found

    def _next_height(self, parent: str | None) -> int | None:
        """The number the commit on `parent` will have; None when the clone cannot say
        (a shallow clone, or a height line written by hand, which only `promote`
        refuses over: other acts are recorded without the line)."""
        try:
            height = height_of(self.store, parent) if parent else 0
        except InputError:
            return None
        return None if height is None else height + 1

    def _undo(self, commit: str, head: str | None) -> None:
        # A write with a shared remote counts only once pushed: take the local commit
        # back so the ledger is as it was.
        self.store.compare_and_swap(self.ref, head or ZERO, commit, "releasegate: undo")

    def _push_pending(self, upstream: Upstream | None, pulled: Pulled, snap: Snapshot) -> None:
        # An act already done here may still wait for its push (its command was killed
        # after the commit): carry it now.
        if upstream is not None and snap.head is not None and pulled.theirs != snap.head:
            try:
                self.store.push(upstream.remote, self.ref, upstream.merge)
            except ContentionError:
                snap.warnings.append(f"{upstream.remote} moved; the local acts not yet "
                                     "pushed go with the next write or `releasegate sync`")

    # -- the shared remote ---------------------------------------------------------------

    def upstream(self) -> Upstream | None:
        """The remote branch this ledger shares, when git has one configured."""
        branch = self.ref.removeprefix("refs/heads/")
        settings = self.store.config_values(f"branch.{branch}.")
        remote = settings.get(f"branch.{branch}.remote")
        merge = settings.get(f"branch.{branch}.merge")
        if not remote or not merge or remote == ".":
            return None
        return Upstream(remote, merge)

    def pull(self, upstream: Upstream, arrived: list[tuple[str, str]] | None = None,
             fetched: str | None = None) -> Pulled:
        """Fetch the shared ledger (unless `fetched` is its commit, just fetched) and
        fast-forward to it; with `arrived`, the working tree is brought in step later
        (`_catch_up`), and the heads are noted there.

        Acts recorded here whose push never happened (the command was killed between
        commit and push) while others moved the shared ledger on are dropped, never
        rebased: rebasing would give two events one sequence number and break the chain.
        """
        theirs = fetched or self._fetch(upstream)
        ours = self.store.resolve(self.ref)
        if theirs is None or theirs == ours:
            return Pulled(theirs)
        base = self.store.merge_base(ours, theirs) if ours is not None else None
        if base == theirs:
            return Pulled(theirs)  # local acts not pushed yet: the next push carries them
        dropped: list[str] = []
        taken_out: list[str] = []
        if ours is not None and base != ours:
            dropped, taken_out = self._drop_unpushed_acts(upstream, ours, theirs)
        if not self.store.compare_and_swap(self.ref, theirs, ours, "releasegate: sync"):
            raise ContentionError("the ledger moved while syncing; nothing was recorded",
                                  hint="retry the command")
        self.history.remember(LOCAL, theirs)
        if taken_out:  # where a dropped act's file stood, the shared ledger may have one
            self.courtesy.add_from(theirs, taken_out)
        if arrived is not None and ours is not None:
            arrived.append((ours, theirs))
            return Pulled(theirs, [], dropped)
        if ours is None:
            return Pulled(theirs, list(self.store.list_tree(theirs)), dropped)
        return Pulled(theirs, self._catch_up(ours, theirs), dropped)

    def _fetch(self, upstream: Upstream) -> str | None:
        """The shared branch's commit, fetched, once its history is checked."""
        theirs = self.store.fetch(upstream.remote, upstream.merge)
        turn = self._turn
        claims: list[str] | None = self.store.turns
        if turn is not None and turns.outranked(self.store.turns, turn.mine, time.time(),
                                                turn.scope):
            # An act that lost more races claimed the next turn: wait until it is done
            # (asking the remote for its claims alone), then fetch what it recorded.
            while claims is not None and turn.gave_way < turns.GIVE_WAY and \
                    turns.outranked(claims, turn.mine, time.time(), turn.scope):
                turn.gave_way += 1
                pause = random.uniform(0.1, 0.3)
                time.sleep(pause)
                turn.waited += pause
                claims = self.store.remote_turns(upstream.remote)
            theirs = self.store.fetch(upstream.remote, upstream.merge)
        reached("fetched")
        self.history.check(REMOTE, theirs, accept=self.accept_rewrite)
        return theirs

    def _catch_up(self, ours: str, theirs: str) -> list[str]:
        """Write and stage the files others' acts added between two heads, and those
        they changed where the working copy is untouched; the paths added."""
        added, changed = self.store.added_and_changed(ours, theirs)
        if not self.store.is_unborn_checkout():
            self.courtesy.catch_up(added, changed)
        return list(added)

    def _drop_unpushed_acts(self, upstream: Upstream, ours: str,
                            theirs: str) -> tuple[list[str], list[str]]:
        """The summaries of the local acts dropped, and the paths their files had."""
        local = self.store.run("rev-list", "--reverse", f"{theirs}..{ours}").decode().split()
        acts = {c: self.store.act_summary(c) for c in local}
        where = f"{upstream.remote}/{upstream.merge.removeprefix('refs/heads/')}"
        if not all(acts.values()):
            own = [c[:12] for c, act in acts.items() if not act]
            raise InputError(
                f"the local ledger has commits that are not on {upstream.remote} "
                f"({', '.join(own)}), and {upstream.remote} moved on; nothing was recorded",
                code="diverged",
                hint=("they change no event, so move them onto the shared ledger with "
                      f"`git rebase {where}`, then retry" if not any(acts.values()) else
                      "releasegate's own unpushed acts are mixed with them: keep your "
                      f"commits on a branch, `git reset --keep {where}`, repeat the acts, "
                      "then cherry-pick your commits (never rebase releasegate's acts)"))
        taken_out = self.store.added_paths(self.store.merge_base(ours, theirs), ours)
        self.courtesy.remove(ours, taken_out)
        return [str(acts[c]) for c in local], taken_out

    def pull_now(self, upstream: Upstream) -> Pulled:
        """`pull`, taking this clone's write lock for it."""
        with CloneLock(self.root):
            try:
                return self.pull(upstream)
            finally:
                self.store.settle_fetches()

    def sync(self) -> tuple[Upstream | None, Pulled, bool]:
        """Pull the shared ledger, then push the local commits it lacks, once every
        patch they touch still verifies: a broken chain is never passed on."""
        upstream = self.upstream()
        if upstream is None:
            return None, Pulled(None), False
        with CloneLock(self.root):
            try:
                pulled = self.pull(upstream)
            finally:
                self.store.settle_fetches()
            head = self.store.resolve(self.ref)
            if head is None or head == pulled.theirs:
                return upstream, pulled, False
            self.verify_patches(self.store.touched_patches(pulled.theirs, head), head)
            self.store.push(upstream.remote, self.ref, upstream.merge)
        return upstream, pulled, True

    def verify_patches(self, patches: Sequence[str], head: str) -> None:
        """Read each patch's events at `head`, checking the hash chain and sequence;
        InputError (nothing pushed) at the first that does not verify."""
        snap = Snapshot(self.store, head)
        snap.prefetch([f"patches/{p}/events" for p in patches])
        for patch in patches:
            try:
                snap.events(patch)
            except InputError as exc:
                raise InputError(f"{exc.message}; the local ledger does not verify, so nothing "
                                 "was pushed", file=exc.file, code="ledger-corrupt",
                                 hint="restore the patch's events from the shared ledger's "
                                      "history; never push a broken chain") from None


def rests_on(write: Write[Any]) -> tuple[str, ...] | None:
    """What an act of one patch was validated against: its patch's folder and the
    pipeline; None when its files lie in more than one patch's folder, or none. (Its
    board row may also rest on other patches; a row is checked whenever it is read.)"""
    return rests_on_paths(list(write.files))


def rests_on_paths(paths: list[str]) -> tuple[str, ...] | None:
    """`rests_on` for an act that adds or replaces the files at `paths`."""
    folders = patch_folders(paths)
    if len(folders) != 1:
        return None
    patch = folders.pop()
    if any(not p.startswith(f"patches/{patch}/")
           and not (p.startswith(REPLACED) and p.endswith(f"/{patch}.json"))
           for p in paths):
        return None
    return f"patches/{patch}/", CONFIG_FILE, CHECKLISTS


def _retry_note(retried: list[str]) -> str:
    return (f"recorded after {len(retried)} retr{'y' if len(retried) == 1 else 'ies'} "
            f"({'; '.join(dict.fromkeys(retried))})")


def dropped_notes(pulled: Pulled, upstream: Upstream | None) -> list[str]:
    return [f"an act recorded in this clone never reached {upstream.remote if upstream else ''} "
            f"and was dropped, as the shared ledger moved on without it: '{act}'; it is not "
            "recorded: repeat it unless this command is that act" for act in pulled.dropped]
