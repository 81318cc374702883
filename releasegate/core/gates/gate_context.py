"""What every gate condition is evaluated against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from releasegate.core.model import Environment, Pipeline
from releasegate.core.regression import SuiteResults
from releasegate.core.state import PatchState

ResultsBySuite = Mapping[tuple[str, str], SuiteResults]  # (env, suite) -> results


@dataclass(frozen=True)
class SignatureReport:
    """How the signatures of a gate's evidence were checked (outside core, with
    ssh-keygen): how many, and the events left out, each with the reason."""

    checked: int = 0
    ignored: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GateContext:
    pipeline: Pipeline
    state: PatchState
    target: Environment
    dependencies: Mapping[str, PatchState | None] = field(default_factory=dict)
    results: ResultsBySuite = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: _now())
    signatures: SignatureReport | None = None  # None: not checked
    # rules.signed_config: the commit that last changed the configuration, and why it
    # does not count (None: signed by an admin); None when not checked
    config: tuple[str, str | None] | None = None


def _now() -> datetime:
    from releasegate.core import clock

    return clock.now()
