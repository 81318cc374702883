"""checklists: each listed template completed, for the current digest, by a holder."""

from __future__ import annotations

from collections.abc import Mapping

from releasegate.core.gates.gate_context import GateContext
from releasegate.core.model import ChecklistTemplate, Condition
from releasegate.core.state import ChecklistFilling
from releasegate.core.text import text_in


def fillings(ctx: GateContext) -> list[ChecklistFilling]:
    """The latest filling per person of each template this gate lists."""
    latest: dict[tuple[str, str], ChecklistFilling] = {}
    for filling in ctx.state.checklists:
        if filling.env == ctx.target.name and filling.template in ctx.target.gate.checklists:
            latest[(filling.template, filling.person)] = filling
    return list(latest.values())


def evaluate(ctx: GateContext) -> list[Condition]:
    rows = []
    current = fillings(ctx)
    for template_id in ctx.target.gate.checklists:
        template = ctx.pipeline.templates[template_id]
        rows.append(_evaluate_one(ctx, template, [f for f in current
                                                  if f.template == template_id]))
    return rows


def _evaluate_one(ctx: GateContext, template: ChecklistTemplate,
                  mine: list[ChecklistFilling]) -> Condition:
    if not mine:
        roles = " or ".join(template.roles)
        return Condition("checklists", template.id, "fail",
                         f"not filled for this digest; to be filled by {roles}")
    problems: list[str] = []
    for filling in mine:
        if not any(ctx.pipeline.holds(filling.person, r) for r in template.roles):
            problems.append(f"{filling.person} no longer holds a role of this checklist")
            continue
        missing = filling_problems(template, filling.answers)
        if not missing:
            return Condition("checklists", template.id, "pass",
                             f"completed by {filling.person} at {filling.event.at}")
        problems.append(f"{filling.person}: " + "; ".join(missing))
    return Condition("checklists", template.id, "fail", "incomplete: " + " | ".join(problems))


def filling_problems(template: ChecklistTemplate,
                     answers: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What keeps a filling from being complete: unanswered or unconfirmed items."""
    problems = []
    for item in template.items:
        answer = answers.get(item.id)
        value = answer.get("value") if answer else None
        if value is None or value == "":
            if item.required:
                problems.append(f"'{item.id}' not answered")
        elif item.type == "confirm" and value == "no":
            problems.append(f"'{item.id}' answered no ({text_in(item.text)})")
        elif value == "n/a" and not (item.allow_na and answer and answer.get("reason")):
            problems.append(f"'{item.id}' is n/a without an allowed reason")
    return problems
