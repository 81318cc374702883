"""The signatures condition: where a gate requires them, the sign-offs, checklists and
waivers it counts carry valid signatures. The checking itself happens outside core
(ssh-keygen); evidence without a valid signature is already left out of the state,
and this row says what was checked and what was left out."""

from __future__ import annotations

from releasegate.core.gates.gate_context import GateContext
from releasegate.core.model import Condition

SHOWN = 5  # ignored events named in the row


def evaluate(ctx: GateContext) -> list[Condition]:
    if not ctx.target.gate.signatures:
        return []
    report = ctx.signatures
    if report is None:  # fail closed: nobody checked them
        return [Condition("signatures", "signatures", "fail",
                          "required, but the signatures were not checked")]
    detail = f"required; {report.checked} signed sign-off(s), checklist(s) and waiver(s) " \
             "checked"
    if report.ignored:
        named = "; ".join(f"{path}: {why}" for path, why in report.ignored[:SHOWN])
        more = f"; and {len(report.ignored) - SHOWN} more" if len(report.ignored) > SHOWN \
            else ""
        detail += f"; {len(report.ignored)} left out, without a valid signature: {named}{more}"
    return [Condition("signatures", "signatures", "pass", detail)]


def config_rows(ctx: GateContext) -> list[Condition]:
    """Under rules.signed_config, whether the configuration counts: its last change must
    be a commit signed by an admin; fail closed when it was not checked."""
    if not ctx.pipeline.rules.signed_config:
        return []
    if ctx.config is None:
        return [Condition("config", "signed_config", "fail",
                          "rules.signed_config is set, but the configuration's signature "
                          "was not checked")]
    commit, problem = ctx.config
    if problem is not None:
        return [Condition("config", "signed_config", "fail",
                          f"{problem}; the configuration counts only when an admin signs "
                          "its last change")]
    return [Condition("config", "signed_config", "pass",
                      f"releasegate.yaml last changed by commit {commit[:12]}, signed by an "
                      "admin")]
