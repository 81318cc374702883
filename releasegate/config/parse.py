"""Turn validated YAML documents into the domain: pipeline, checklist templates, manifests.

Schema validation (releasegate.schema) checks shapes; this module checks what a
JSON Schema cannot: that names refer to things that exist, in the right order, that
names and e-mails are unique, and that the time zone is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from releasegate.config.schema import validate
from releasegate.config.strict_yaml import Document, Path_, format_path
from releasegate.core.errors import ConfigError, InputError, did_you_mean
from releasegate.core.model import (
    ChecklistItem,
    ChecklistTemplate,
    Environment,
    Gate,
    Manifest,
    Person,
    PersonKey,
    Pipeline,
    Rules,
    SignoffRule,
    TestsRule,
)
from releasegate.core.subscriptions import Channel, Delivery, Notices, Subscriber
from releasegate.core.text import ANY_LANGUAGE, Text, shown_line, text_hint, text_problem

# The manifest's texts that may span lines (docs/configuration.md, "Control characters");
# every other text of a manifest, releasegate.yaml or a checklist template is one line.
MANIFEST_MULTILINE = frozenset({"summary", "business_impact", "downtime", "rollback_plan"})


def check_texts(doc: Document, *, multiline: frozenset[str] = frozenset(),
                cls: type[InputError] = ConfigError) -> None:
    """Refuse a control character in any key or text of `doc` (core.text says which),
    at its line and key; only the texts under a top-level key in `multiline` may hold
    line breaks and tabs. Runs before the schema, so that its message is the one shown."""

    def walk(value: Any, path: Path_) -> None:
        if isinstance(value, str):
            lines = bool(path) and path[0] in multiline
            problem = text_problem(value, multiline=lines)
            if problem is not None:
                raise doc.error(path, problem, hint=text_hint(value, multiline=lines),
                                cls=cls)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and (problem := text_problem(key)) is not None:
                    # Named by its line, never echoed: the key itself is what is wrong.
                    raise cls(f"the key '{shown_line(key)}' {problem}", file=doc.source,
                              line=doc.line_of((*path, key)), key=format_path(path) or None)
                walk(item, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*path, i))

    walk(doc.data, ())


def as_text(value: Any) -> Text:
    """A text field as a language map; a plain string belongs to no language."""
    if isinstance(value, str):
        return {ANY_LANGUAGE: value}
    return dict(value)


def _opt_text(value: Any) -> Text | None:
    return None if value is None else as_text(value)


def parse_template(doc: Document) -> ChecklistTemplate:
    """A checklist template from its validated YAML document."""
    check_texts(doc)
    data = validate(doc, "checklist")
    items = []
    seen: set[str] = set()
    for i, raw in enumerate(data["items"]):
        if raw["id"] in seen:
            raise doc.error(("items", i, "id"), f"duplicate item id '{raw['id']}'",
                            cls=ConfigError)
        seen.add(raw["id"])
        items.append(ChecklistItem(
            id=raw["id"], text=as_text(raw["text"]), type=raw["type"],
            required=raw.get("required", True), allow_na=raw.get("allow_na", False),
            choices=tuple(raw.get("choices", ()))))
    return ChecklistTemplate(id=data["id"], title=as_text(data["title"]),
                             roles=tuple(data["roles"]), items=tuple(items))


def _person_key(raw: Any) -> PersonKey:
    """A key given as its public key line, or as {key, valid_after, valid_before}."""
    if isinstance(raw, str):
        return PersonKey(raw)
    return PersonKey(raw["key"], raw.get("valid_after"), raw.get("valid_before"))


def parse_pipeline(doc: Document, templates: Mapping[str, ChecklistTemplate]) -> Pipeline:
    """The pipeline from releasegate.yaml, checked against itself and the templates."""
    check_texts(doc)
    data = validate(doc, "pipeline")
    people = {pid: Person(id=pid, name=p["name"], email=p.get("email"),
                          keys=tuple(_person_key(k) for k in p.get("keys", ())))
              for pid, p in (data.get("people") or {}).items()}
    roles = {name: tuple(members) for name, members in (data.get("roles") or {}).items()}
    environments = tuple(_parse_environment(e) for e in data["environments"])
    pipeline = Pipeline(
        version=data["version"], timezone=data.get("timezone", "UTC"),
        environments=environments, people=people, roles=roles,
        rules=_parse_rules(data.get("rules") or {}), templates=dict(templates),
        notices=_parse_notices(data["notices"]) if data.get("notices") else None,
        revoked_keys=tuple(data.get("revoked_keys", ())))
    _check_pipeline(doc, pipeline)
    return pipeline


def _parse_notices(raw: dict[str, Any]) -> Notices:
    channels = {name: Channel(
        name=name, type=c["type"], host=c.get("host"), port=c.get("port"), sender=c.get("from"),
        starttls=c.get("starttls", False), tls=c.get("tls", False), user_env=c.get("user_env"),
        password_env=c.get("password_env"), format=c.get("format", "generic"),
        url_env=c.get("url_env"), secret_env=c.get("secret_env"),
        timeout=float(c.get("timeout", 10.0))) for name, c in (raw.get("channels") or {}).items()}
    languages = tuple(raw.get("languages") or ("zh-CN", "en"))
    subscribers = {name: Subscriber(
        name=name, systems=tuple(s["systems"]),
        deliveries=tuple(Delivery(d["channel"], tuple(d.get("to", ())))
                         for d in s["channels"]),
        language=s.get("language", languages[0]), audience=s.get("audience", "business"))
        for name, s in (raw.get("subscribers") or {}).items()}
    return Notices(languages=languages, contact=_opt_text(raw.get("contact")),
                   on_promote=raw.get("on_promote", False), channels=channels,
                   subscribers=subscribers)


def _check_notices(doc: Document, notices: Notices) -> None:
    # A channel's own keys (smtp: host and from; webhook: url_env; not both starttls
    # and tls) are the schema's to check, so that editors see them too.
    at = ("notices",)
    for name, subscriber in notices.subscribers.items():
        if subscriber.language not in notices.languages:
            raise doc.error((*at, "subscribers", name, "language"),
                            f"'{subscriber.language}' is not one of notices.languages",
                            cls=ConfigError)
        for i, delivery in enumerate(subscriber.deliveries):
            path = (*at, "subscribers", name, "channels", i)
            _must_exist(doc, (*path, "channel"), "channel", delivery.channel, notices.channels)
            kind = notices.channels[delivery.channel].type
            if kind == "smtp" and not delivery.to:
                raise doc.error(path, "an e-mail delivery needs 'to' addresses",
                                cls=ConfigError)
            if kind == "webhook" and delivery.to:
                raise doc.error((*path, "to"), "a webhook delivery takes no 'to'",
                                cls=ConfigError)


def _parse_rules(raw: dict[str, Any]) -> Rules:
    return Rules(**{**raw, "waivers_by": tuple(raw.get("waivers_by", ())),
                    "proxies_by": tuple(raw.get("proxies_by", ()))})


def _parse_environment(raw: dict[str, Any]) -> Environment:
    gate = raw["gate"] or {}
    return Environment(name=raw["name"], gate=Gate(
        checklists=tuple(gate.get("checklists", ())),
        tests=tuple(_parse_tests_rule(t) for t in gate.get("tests", ())),
        signoffs=tuple(SignoffRule(role=s["role"], count=s.get("count", 1),
                                   proxy=s.get("proxy", "deny"))
                       for s in gate.get("signoffs", ())),
        signatures=gate.get("signatures") == "required"))


def _parse_tests_rule(raw: dict[str, Any]) -> TestsRule:
    missing = raw.get("no_missing_tests")
    if isinstance(missing, bool):
        missing = 0 if missing else None
    return TestsRule(env=raw["env"], suites=tuple(raw["suites"]),
                     min_tests=raw.get("min_tests"), max_failures=raw.get("max_failures"),
                     max_skipped_ratio=raw.get("max_skipped_ratio"),
                     no_new_failures=raw.get("no_new_failures", False),
                     no_missing_tests=missing, flaky=raw.get("flaky", "allow"),
                     known_failures=raw.get("known_failures", "deny"))


def _check_keys(doc: Document, pipeline: Pipeline) -> None:
    """Every key line must hold a key of the type it names; no key belongs to two people."""
    from releasegate.core.sshsig import key_blob

    owners: dict[bytes, str] = {}
    for pid, person in pipeline.people.items():
        for i, key in enumerate(person.keys):
            blob = key_blob(key.line)
            at = ("people", pid, "keys", i)
            if blob is None:
                raise doc.error(at, "not an OpenSSH public key line (type, base64 key, "
                                "comment)", cls=ConfigError)
            if blob in owners and owners[blob] != pid:
                raise doc.error(at, f"this key is also {owners[blob]}'s; a key identifies "
                                "one person", cls=ConfigError)
            owners[blob] = pid
    for i, line in enumerate(pipeline.revoked_keys):
        if key_blob(line) is None:
            raise doc.error(("revoked_keys", i), "not an OpenSSH public key line",
                            cls=ConfigError)


def _check_pipeline(doc: Document, pipeline: Pipeline) -> None:
    _check_timezone(doc, pipeline.timezone)
    _check_unique_environments(doc, pipeline)
    for role, members in pipeline.roles.items():
        for i, member in enumerate(members):
            _must_exist(doc, ("roles", role, i), "person", member, pipeline.people)
    emails: dict[str, str] = {}
    for pid, person in pipeline.people.items():
        if person.email:
            key = person.email.lower()
            if key in emails:
                raise doc.error(("people", pid, "email"), f"{person.email} is also the e-mail "
                                f"of '{emails[key]}'; identities must be unique", cls=ConfigError)
            emails[key] = pid
    for i, env in enumerate(pipeline.environments):
        _check_gate(doc, pipeline, i, env.gate)
    if pipeline.notices is not None:
        _check_notices(doc, pipeline.notices)
    for i, role in enumerate(pipeline.rules.waivers_by):
        _must_exist(doc, ("rules", "waivers_by", i), "role", role, pipeline.roles)
    for i, role in enumerate(pipeline.rules.proxies_by):
        _must_exist(doc, ("rules", "proxies_by", i), "role", role, pipeline.roles)
    _check_keys(doc, pipeline)
    for template in pipeline.templates.values():
        for role in template.roles:
            if role not in pipeline.roles:
                file = f"checklists/{template.id}.yaml"
                close = did_you_mean(role, pipeline.roles)
                raise ConfigError(f"checklist template '{template.id}' names role '{role}', "
                                  "which releasegate.yaml does not define",
                                  file=file, key="roles",
                                  hint=(f"{close} " if close else "") + f"add `{role}: "
                                  "[PERSON, ...]` under roles: in releasegate.yaml, or take "
                                  f"'{role}' out of roles: in {file}; then commit the change")


def _check_timezone(doc: Document, name: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        raise doc.error(("timezone",), f"unknown time zone {name!r}",
                        hint="use an IANA name such as Asia/Shanghai or UTC",
                        cls=ConfigError) from None


def _check_unique_environments(doc: Document, pipeline: Pipeline) -> None:
    seen: set[str] = set()
    for i, name in enumerate(pipeline.env_names):
        if name in seen:
            raise doc.error(("environments", i, "name"), f"environment '{name}' is listed twice",
                            cls=ConfigError)
        seen.add(name)


def _check_gate(doc: Document, pipeline: Pipeline, index: int, gate: Gate) -> None:
    at = ("environments", index, "gate")
    for i, checklist in enumerate(gate.checklists):
        _must_exist(doc, (*at, "checklists", i), "checklist template", checklist,
                    pipeline.templates)
    earlier = pipeline.env_names[:index]
    for i, rule in enumerate(gate.tests):
        if rule.env not in earlier:
            where = "an earlier environment" if earlier else "none (the first gate has no tests)"
            raise doc.error((*at, "tests", i, "env"),
                            f"tests for this gate must have run in an environment the patch has "
                            f"already entered; '{rule.env}' is not one of: {where}"
                            if not earlier else
                            f"'{rule.env}' is not an earlier environment; expected one of: "
                            f"{', '.join(earlier)}",
                            hint=did_you_mean(rule.env, earlier), cls=ConfigError)
    for i, signoff in enumerate(gate.signoffs):
        _must_exist(doc, (*at, "signoffs", i, "role"), "role", signoff.role, pipeline.roles)


def _must_exist(doc: Document, path: tuple[str | int, ...], kind: str, name: str,
                known: Mapping[str, Any]) -> None:
    if name not in known:
        raise doc.error(path, f"unknown {kind} '{name}'", hint=did_you_mean(name, known),
                        cls=ConfigError)


def parse_manifest(doc: Document) -> Manifest:
    """A patch manifest from its validated YAML document."""
    check_texts(doc, multiline=MANIFEST_MULTILINE, cls=InputError)
    manifest = manifest_from_data(validate(doc, "manifest", error_cls=InputError))
    for i, dependency in enumerate(manifest.depends_on):
        if dependency.lower() == manifest.id.lower():  # ids are unique regardless of case
            raise doc.error(("depends_on", i), f"{manifest.id} cannot depend on itself: it "
                            "could never pass its own gate; remove it from depends_on")
    return manifest


def manifest_from_data(data: Mapping[str, Any]) -> Manifest:
    """A manifest from data that was validated when the patch was submitted."""
    return Manifest(
        id=data["id"], system=data["system"], vendor=data["vendor"],
        title=as_text(data["title"]), vendor_ref=data.get("vendor_ref"),
        version=data.get("version"), summary=_opt_text(data.get("summary")),
        business_impact=_opt_text(data.get("business_impact")),
        affected_modules=tuple(data.get("affected_modules", ())),
        downtime=_opt_text(data.get("downtime")),
        rollback_plan=_opt_text(data.get("rollback_plan")),
        depends_on=tuple(data.get("depends_on", ())),
        fixes=tuple(as_text(f) for f in data.get("fixes", ())),
        contact=_opt_text(data.get("contact")),
        artifacts=tuple(data.get("artifacts", ())))
