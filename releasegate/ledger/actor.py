"""Who is acting: --as, else RELEASEGATE_USER, else git's user.email matched to a person."""

from __future__ import annotations

from releasegate.core.errors import InputError, did_you_mean
from releasegate.core.model import Person, Pipeline
from releasegate.ledger.store import GitStore


def resolve_actor(pipeline: Pipeline, claimed: str | None, store: GitStore) -> Person:
    """The person acting, who must be listed under `people` in releasegate.yaml."""
    if claimed:
        if claimed in pipeline.people:
            return pipeline.people[claimed]
        by_email = _by_email(pipeline, claimed)
        if by_email:
            return by_email
        raise InputError(f"unknown person '{claimed}': not listed under 'people' in "
                         "releasegate.yaml", code="unknown-person",
                         hint=did_you_mean(claimed, pipeline.people) or
                         "add the person to releasegate.yaml and commit it")
    email = store.config_value("user.email")
    person = _by_email(pipeline, email) if email else None
    if person is None:
        seen = f"git user.email is {email!r}" if email else "git user.email is not set"
        raise InputError(f"cannot tell who you are: {seen} and matches no person in "
                         "releasegate.yaml", code="unknown-person",
                         hint="pass --as PERSON or set RELEASEGATE_USER")
    return person


def _by_email(pipeline: Pipeline, email: str) -> Person | None:
    wanted = email.strip().lower()
    for person in pipeline.people.values():
        if person.email and person.email.lower() == wanted:
            return person
    return None
