"""Delivering notices to subscribers, exactly once each, through an outbox in the ledger.

Every delivery (patch, notice kind, digest, subscriber, channel) has a deterministic
id. A `notified` event records a success; a delivery without one is due. So a rerun
never sends a delivered notice twice, and a failed one is tried again next time and
never recorded as sent.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from releasegate.actions.board_rows import with_rows
from releasegate.actions.common import append_event, load_patch
from releasegate.core.errors import NotFoundError, did_you_mean
from releasegate.core.model import Pipeline
from releasegate.core.state import PatchState
from releasegate.core.subscriptions import Delivery, Subscriber
from releasegate.ledger.actor import resolve_actor
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.transaction import Ledger, Write, unchanged

if TYPE_CHECKING:
    from releasegate.notices.render import RenderedNotice


@dataclass(frozen=True)
class Due:
    """One delivery the outbox holds for a patch."""

    id: str
    kind: str
    subscriber: Subscriber
    delivery: Delivery

    @property
    def label(self) -> str:
        to = f" to {', '.join(self.delivery.to)}" if self.delivery.to else ""
        return f"{self.subscriber.name} via {self.delivery.channel}{to}"


@dataclass(frozen=True)
class Attempt:
    due: Due
    ok: bool
    detail: str
    preview: str | None = None


def delivery_id(patch: str, kind: str, digest: str, subscriber: str, channel: str) -> str:
    """The outbox key of a delivery: stable across runs and machines."""
    key = "\n".join((patch, kind, digest, subscriber, channel))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def delivered_ids(state: PatchState) -> set[str]:
    return {str(e.data.get("delivery")) for e in state.events if e.type == "notified"}


def due_deliveries(pipeline: Pipeline, state: PatchState, kind: str,
                   channel: str | None = None) -> list[Due]:
    """The deliveries of `kind` for this patch and digest that no event records yet."""
    done = delivered_ids(state)
    found = []
    for subscriber in pipeline.notice_settings().subscribers.values():
        if state.manifest.system not in subscriber.systems:
            continue
        for delivery in subscriber.deliveries:
            if channel is not None and delivery.channel != channel:
                continue
            ident = delivery_id(state.id, kind, state.digest, subscriber.name, delivery.channel)
            if ident not in done:
                found.append(Due(ident, kind, subscriber, delivery))
    return found


def notify(ledger: Ledger, claimed: str | None, patch: str, *, channel: str | None = None,
           dry_run: bool = False, kind: str | None = None,
           environ: Mapping[str, str] | None = None) -> tuple[list[Attempt], list[str]]:
    """Send the patch's due notices; record each success as it happens."""
    from releasegate.actions.notices import notice_for
    from releasegate.delivery.dispatch import deliver, preview
    from releasegate.notices.context import default_kind

    if not dry_run:
        # Make sure a delivery can be recorded before anything is sent: a branch to
        # write on, and the shared ledger's latest outbox.
        upstream = ledger.upstream()
        if upstream is not None:
            ledger.pull_now(upstream)
    snap = ledger.snapshot()
    pipeline = load_pipeline(snap)
    state = load_patch(ledger, snap, patch)
    if channel is not None and channel not in pipeline.notice_settings().channels:
        raise NotFoundError(f"unknown channel '{channel}'", code="unknown-channel",
                            hint=did_you_mean(channel, pipeline.notice_settings().channels))
    if not dry_run:
        resolve_actor(pipeline, claimed, ledger.store)
        ledger.require_branch()  # a detached checkout cannot record: refuse before sending
    chosen = kind or default_kind(pipeline, state)
    attempts = []
    rendered: dict[tuple[str, str], RenderedNotice] = {}  # one rendering per audience and language
    for due in due_deliveries(pipeline, state, chosen, channel):
        key = (due.subscriber.audience, due.subscriber.language)
        if key not in rendered:
            rendered[key] = notice_for(ledger, state.id, audience=key[0], lang=key[1],
                                       kind=chosen)[0]
        notice = rendered[key]
        target = pipeline.notice_settings().channels[due.delivery.channel]
        if dry_run:
            attempts.append(Attempt(due, True, "not sent (dry run)",
                                    preview(target, due.delivery, notice)))
            continue
        outcome = deliver(target, due.delivery, notice, environ or os.environ)
        reached = [a for a in due.delivery.to if a not in outcome.refused]
        if outcome.ok or (outcome.refused and reached):
            # Recipients who got it must not get it again; refused ones are named.
            _record(ledger, claimed, state.id, due, notice.subject, outcome.refused)
        attempts.append(Attempt(due, outcome.ok, outcome.detail))
    return attempts, snap.warnings


def subscribed(pipeline: Pipeline, state: PatchState) -> bool:
    """Whether any subscriber hears about the patch's system."""
    return any(state.manifest.system in s.systems
               for s in pipeline.notice_settings().subscribers.values())


def _record(ledger: Ledger, claimed: str | None, patch: str, due: Due, subject: str,
            refused: tuple[str, ...] = ()) -> None:
    def operation(snap: Snapshot) -> Write[None]:
        pipeline = load_pipeline(snap)
        actor = resolve_actor(pipeline, claimed, ledger.store)
        state = load_patch(ledger, snap, patch)
        if due.id in delivered_ids(state):
            return unchanged(None)  # another run recorded it meanwhile
        data: dict[str, object] = {
            "delivery": due.id, "kind": due.kind, "subscriber": due.subscriber.name,
            "channel": due.delivery.channel, "audience": due.subscriber.audience,
            "lang": due.subscriber.language, "subject": subject}
        if due.delivery.to:
            data["to"] = [a for a in due.delivery.to if a not in refused]
        if refused:
            data["refused"] = list(refused)
        return append_event(state, actor, "notified", None, data,
                            f"notified {due.label} ({due.kind})", result=None)

    ledger.transact(with_rows(ledger, operation))
