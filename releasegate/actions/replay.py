"""Re-evaluating a past promotion as of its own time: the ledger as it stood just
before the promotion's commit (its pipeline, the patch's evidence, the baselines and
dependencies then), and the clock at the promotion's recorded time."""

from __future__ import annotations

from releasegate.actions.common import fold_patch
from releasegate.actions.gate import evaluate_then
from releasegate.core.board import waiting_for
from releasegate.core.clock import parse_stamp
from releasegate.core.errors import ReleasegateError
from releasegate.core.model import Event, Verdict
from releasegate.ledger.pipeline import load_pipeline
from releasegate.ledger.snapshot import Snapshot
from releasegate.ledger.store import Commit
from releasegate.ledger.transaction import Ledger


def replay_promotion(ledger: Ledger, present: Snapshot, commit: Commit,
                     event: Event) -> tuple[str | None, Verdict | None]:
    """Why the promotion `event` (added by `commit`) should not have happened (None
    when its gate was open then), and the verdict judged by, where it could be had.
    `present` is the ledger as it stands, whose baseline index, cut at the promotion,
    gives the baselines as they were then."""
    if not commit.parents or event.env is None:
        return "a promotion in the ledger's first commit", None
    snap = Snapshot(ledger.store, commit.parents[0], replaying=(present, event))
    try:
        pipeline = load_pipeline(snap)
        state = fold_patch(snap, event.patch)
        if state.digest != event.digest:
            return (f"promoted digest {event.digest}, which was not the patch's current "
                    f"one ({state.digest})"), None
        verdict, _ = evaluate_then(ledger, snap, pipeline, state, event.env,
                                   parse_stamp(event.at))
    except ReleasegateError as exc:
        return f"its gate cannot be evaluated as of then: {exc.message}", None
    except ValueError:
        return f"its recorded time {event.at!r} is not a time", None
    if not verdict.open:
        return (f"promoted into {event.env} at {event.at} although its gate was closed then: "
                + "; ".join(waiting_for(verdict))), verdict
    return None, verdict
