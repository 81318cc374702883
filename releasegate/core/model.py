"""The domain types: pipeline, gates, checklists, manifests, events and verdicts.

All are frozen dataclasses built from validated configuration or event files;
nothing here touches git, files or the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from releasegate.core.text import ANY_LANGUAGE as ANY_LANGUAGE
from releasegate.core.text import Text as Text
from releasegate.core.text import text_in as text_in

if TYPE_CHECKING:
    from releasegate.core.subscriptions import Notices

@dataclass(frozen=True)
class PersonKey:
    """One of a person's public keys (an OpenSSH public key line), valid for
    signatures made within its window; a bound of None is open."""

    line: str
    valid_after: str | None = None  # UTC, ISO 8601
    valid_before: str | None = None


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str | None = None
    keys: tuple[PersonKey, ...] = ()


@dataclass(frozen=True)
class TestsRule:
    env: str
    suites: tuple[str, ...]
    min_tests: int | None = None
    max_failures: int | None = None
    max_skipped_ratio: float | None = None
    no_new_failures: bool = False
    no_missing_tests: int | None = None  # how many may go missing; None: not checked
    flaky: str = "allow"  # allow | deny
    known_failures: str = "deny"  # allow: still-failing tests do not count as failures

    @property
    def compares(self) -> bool:
        """Whether the rule needs per-test outcomes and the baseline, not just counts."""
        return (self.no_new_failures or self.no_missing_tests is not None
                or self.known_failures == "allow")

    @property
    def name(self) -> str:
        return f"{self.env}: {', '.join(self.suites)}"


@dataclass(frozen=True)
class SignoffRule:
    role: str
    count: int = 1
    proxy: str = "deny"  # allow: a proxy sign-off recorded for a holder counts


@dataclass(frozen=True)
class Gate:
    checklists: tuple[str, ...] = ()
    tests: tuple[TestsRule, ...] = ()
    signoffs: tuple[SignoffRule, ...] = ()
    signatures: bool = False  # required: counted sign-offs, checklists, waivers are signed


@dataclass(frozen=True)
class Environment:
    name: str
    gate: Gate


@dataclass(frozen=True)
class Rules:
    four_eyes: bool = True
    one_role_per_person: bool = True
    stale_signoffs: bool = True
    waivers_by: tuple[str, ...] = ()  # roles whose holders may waive failing tests
    proxies_by: tuple[str, ...] = ()  # roles whose holders may record proxy sign-offs
    signed_config: bool = False  # the configuration counts only when an admin signed it


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: Text
    type: str  # confirm | text | choice | url
    required: bool = True
    allow_na: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChecklistTemplate:
    id: str
    title: Text
    roles: tuple[str, ...]
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class Pipeline:
    version: int
    timezone: str
    environments: tuple[Environment, ...]
    people: Mapping[str, Person]
    roles: Mapping[str, tuple[str, ...]]
    rules: Rules = Rules()
    templates: Mapping[str, ChecklistTemplate] = field(default_factory=dict)
    notices: Notices | None = None  # None: no notices configured
    revoked_keys: tuple[str, ...] = ()  # public key lines invalid for every signature

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(name)

    def index(self, env: str | None) -> int:
        """Position of `env` in the order; -1 for "in no environment yet"."""
        if env is None:
            return -1
        if env not in self.env_names:
            from releasegate.core.errors import ConfigError

            raise ConfigError(f"a patch is in environment '{env}', which releasegate.yaml no "
                              "longer lists", file="releasegate.yaml", key="environments",
                              code="unknown-env",
                              hint=f"restore '{env}' (renaming an environment strands the "
                                   "patches in it)")
        return self.env_names.index(env)

    def previous(self, env: str) -> str | None:
        i = self.index(env)
        return self.env_names[i - 1] if i > 0 else None

    def following(self, env: str | None) -> str | None:
        i = self.index(env) + 1
        return self.env_names[i] if i < len(self.environments) else None

    def holds(self, person: str, role: str) -> bool:
        return person in self.roles.get(role, ())

    def notice_settings(self) -> Notices:
        """The notices configuration, or the defaults when there is none."""
        if self.notices is not None:
            return self.notices
        from releasegate.core.subscriptions import Notices

        return Notices()

    def roles_of(self, person: str) -> tuple[str, ...]:
        return tuple(r for r, members in self.roles.items() if person in members)


@dataclass(frozen=True)
class Artifact:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    id: str
    system: str
    vendor: str
    title: Text
    vendor_ref: str | None = None
    version: str | None = None
    summary: Text | None = None
    business_impact: Text | None = None
    affected_modules: tuple[str, ...] = ()
    downtime: Text | None = None
    rollback_plan: Text | None = None
    depends_on: tuple[str, ...] = ()
    fixes: tuple[Text, ...] = ()
    contact: Text | None = None
    artifacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    """One event file as read back from the ledger."""

    type: str
    patch: str
    seq: int
    prev: str | None
    at: str
    actor: str
    digest: str
    env: str | None
    data: Mapping[str, Any]
    path: str
    sha256: str


@dataclass(frozen=True)
class Condition:
    kind: str
    name: str
    status: str  # pass | fail | waived
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "status": self.status,
                "detail": self.detail}


@dataclass(frozen=True)
class Verdict:
    patch: str
    source: str | None
    target: str
    digest: str
    conditions: tuple[Condition, ...]
    evidence: tuple[str, ...] = ()

    @property
    def open(self) -> bool:
        return all(c.status != "fail" for c in self.conditions)

    def to_dict(self) -> dict[str, Any]:
        return {"patch": self.patch, "from": self.source, "to": self.target,
                "digest": self.digest, "open": self.open,
                "conditions": [c.to_dict() for c in self.conditions]}
