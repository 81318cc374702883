"""A dossier's summaries (`summary.en.md`, `summary.zh-CN.md`): the patch, each event,
signature and promotion and the audit's findings, in markdown for a person, with outside
text escaped. Pure over the record; the names of environments, condition kinds and
statuses come from the notices' catalogue."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from releasegate.actions.dossier_phrases import PHRASES
from releasegate.core.model import Event
from releasegate.ledger.events import PATCHES
from releasegate.trust.dossier_record import PromotionRow, Record
from releasegate.trust.history_rules import ERROR

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _md(value: object) -> str:
    """Outside text as literal markdown on one line (also in a table cell): markup
    escaped, line breaks as spaces, other control characters as visible escapes."""
    from releasegate.notices.render import markdown_inline

    flat = " ".join(str(value).splitlines())
    return markdown_inline(_CONTROL.sub(
        lambda m: m.group().encode("unicode_escape").decode("ascii"), flat))


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(row) + " |" for row in rows)]


class _Summary:
    """One language's account of the record."""

    def __init__(self, record: Record, lang: str) -> None:
        self.record, self.lang = record, lang
        self.words = PHRASES[lang]

    def t(self, key: str, **values: object) -> str:
        return self.words[key].format(**values)

    def env(self, env: object) -> str:
        from releasegate.notices.catalogue import env_name

        if not isinstance(env, str) or not env:
            return "—"
        if self.lang == "en":
            return _md(env)
        return f"{_md(env_name(self.lang, env))}环境"

    def who(self, person: str) -> str:
        known = self.record.pipeline.people.get(person)
        if known is None or not known.name or known.name == person:
            return _md(person)
        return _md(f"{person} ({known.name})" if self.lang == "en"
                   else f"{person}（{known.name}）")

    def text(self, value: object) -> str:
        from releasegate.core.text import text_in

        if isinstance(value, Mapping):
            return _md(text_in({str(k): str(v) for k, v in value.items()}, self.lang))
        return _md(value) if value not in (None, "") else self.t("not_given")

    def render(self) -> str:
        r = self.record
        import releasegate

        errors = sum(f.severity == ERROR for f in r.findings)
        lines = [f"# {self.t('title', patch=_md(r.patch))}", "",
                 self.t("written", version=releasegate.__version__, time=r.written_at,
                        ledger=r.ledger, head=r.head), "",
                 self.t("ok") if r.ok else self.t("failed", count=errors), "",
                 self.t("how"), ""]
        for part in (self._patch, self._events, self._signatures, self._promotions,
                     self._findings):
            lines += part()
        return "\n".join(lines).rstrip() + "\n"

    def _patch(self) -> list[str]:
        r, m = self.record, self.record.manifest
        submitted = next((row.event for row in r.events
                          if row.event is not None and row.event.type == "submitted"), None)
        manifest = r.files.get("patch.yaml")
        rows = [
            (self.t("patch"), _md(r.patch)),
            (self.t("title.row"), self.text(m.get("title"))),
            (self.t("system"), self.text(m.get("system"))),
            (self.t("vendor"), self.text(m.get("vendor"))),
            (self.t("vendor_ref"), self.text(m.get("vendor_ref"))),
            (self.t("version"), self.text(m.get("version"))),
            (self.t("submitted"), self.t("by_at", who=self.who(submitted.actor),
                                         time=_md(submitted.at))
             if submitted else self.t("not_given")),
            (self.t("digest"), _md(r.digest) if r.digest else self.t("not_given")),
            (self.t("env.now"), self.env(r.env) if r.env else self.t("env.none")),
            (self.t("manifest"), self.t("file_sha", file="patch.yaml",
                                        sha=hashlib.sha256(manifest).hexdigest())
             if manifest is not None else self.t("not_given")),
        ]
        lines = [f"## {self.t('h.patch')}", "",
                 *_table([self.t("col.item"), self.t("col.value")], rows), "",
                 f"### {self.t('h.artifacts')}", ""]
        artifacts = [[_md(a.get("name")), _md(a.get("size")), _md(a.get("sha256"))]
                     for a in r.artifacts if isinstance(a, Mapping)]
        lines += _table([self.t("col.file"), self.t("col.size"), self.t("col.sha256")],
                        artifacts) if artifacts else [self.t("artifacts.none")]
        return [*lines, ""]

    def _events(self) -> list[str]:
        rows = []
        for i, row in enumerate(self.record.events):
            event = row.event
            chain = self.t("chain.broken") if not row.chained else \
                self.t("chain.first") if i == 0 else self.t("chain.ok")
            if event is None:
                rows.append([str(i + 1), _md(row.path), "—", "—", "—", "—",
                             self.t("unreadable", problem=_md(row.problem)), chain])
                continue
            kind = (self.t(f"type.{event.type}") if f"type.{event.type}" in self.words
                    else _md(event.type))
            signed = self.t("signed") if isinstance(event.data.get("signature"), Mapping) \
                else ""
            rows.append([_md(event.seq), _md(row.path), kind + signed, _md(event.at),
                         self.who(event.actor), self.env(event.env), self._what(event),
                         chain])
        return [f"## {self.t('h.events')}", "", self.t("events.lead"), "",
                *_table([self.t(k) for k in ("col.seq", "col.file", "col.type", "col.time",
                                             "col.who", "col.env", "col.what", "col.chain")],
                        rows), ""]

    def _what(self, event: Event) -> str:
        d = event.data
        if event.type in ("submitted", "revised"):
            return self.t(f"what.{event.type}", digest=_md(event.digest),
                          count=len(d.get("artifacts") or []))
        if event.type == "checklist":
            return self.t("what.checklist", template=_md(d.get("template")),
                          env=self.env(event.env))
        if event.type == "tests":
            counts = d.get("counts") if isinstance(d.get("counts"), Mapping) else {}
            assert isinstance(counts, Mapping)
            return self.t("what.tests", suite=_md(d.get("suite")),
                          **{k: _md(counts.get(k, "?")) for k in
                             ("tests", "passed", "failed", "errors", "skipped", "flaky")})
        if event.type == "signoff":
            decision = str(d.get("decision"))
            proxy = d.get("proxy") if isinstance(d.get("proxy"), Mapping) else None
            said = self.t("what.signoff.proxy" if proxy else "what.signoff",
                          role=_md(d.get("role")),
                          decision=self.t(f"decision.{decision}")
                          if f"decision.{decision}" in self.words else _md(decision),
                          **({"person": _md(proxy.get("for")),
                              "name": _md(proxy.get("evidence_name")),
                              "sha": _md(proxy.get("evidence_sha256"))} if proxy else {}))
            return said + (self.t("what.comment", comment=_md(d["comment"]))
                           if d.get("comment") else "")
        if event.type == "waiver":
            return self.t("what.waiver", test=_md(d.get("test")), until=_md(d.get("until")),
                          reason=_md(d.get("reason")))
        if event.type == "promoted":
            if d.get("from"):
                return self.t("what.promoted", source=self.env(d.get("from")),
                              target=self.env(event.env))
            return self.t("what.promoted.into", target=self.env(event.env))
        if f"what.{event.type}" in self.words:
            return self.t(f"what.{event.type}", env=self.env(event.env))
        return self.t("what.other", type=_md(event.type))

    def _signatures(self) -> list[str]:
        head = [f"## {self.t('h.signatures')}", ""]
        if not self.record.signed:
            return [*head, self.t("signatures.none"), ""]
        rows = []
        for s in self.record.signed:
            stored = ", ".join(_md(p) for p in (s.statement, s.signature) if p) or \
                self.t("missing")
            key = " ".join(_md(k) for k in (s.key_type, s.fingerprint) if k) or "—"
            result = self.t("sig.ok" if s.ok else "sig.bad", reason=_md(s.reason))
            rows.append([_md(s.event), stored, self.who(s.signer), _md(s.namespace), key,
                         result])
        return [*head, self.t("signatures.lead"), "",
                *_table([self.t(k) for k in ("col.event", "col.files", "col.signer",
                                             "col.namespace", "col.key", "col.result")],
                        rows), ""]

    def _promotions(self) -> list[str]:
        lines = [f"## {self.t('h.promotions')}", ""]
        if not self.record.promotions:
            return [*lines, self.t("promotions.none"), ""]
        lines += [self.t("promotions.lead"), ""]
        for p in self.record.promotions:
            where = self.t("promo.from", source=self.env(p.source), target=self.env(p.target)) \
                if p.source else self.t("promo.into", target=self.env(p.target))
            recorded = {None: "verdict.none", True: "verdict.open",
                        False: "verdict.closed"}[p.recorded_open]
            replayed = "verdict.unknown" if p.replayed is None else \
                "verdict.open" if p.replayed.open else "verdict.closed"
            lines += [f"### {_md(p.event)}: {where}" if self.lang == "en"
                      else f"### {_md(p.event)}：{where}", "",
                      "- " + self.t("promo.by", who=self.who(p.actor), time=_md(p.at),
                                    digest=_md(p.digest)),
                      "- " + self.t("promo.recorded", verdict=self.t(recorded)),
                      "- " + self.t("promo.replayed", verdict=self.t(replayed),
                                    agreement=self.t("agrees" if p.agrees else "differs"))]
            if p.problem:
                lines.append("- " + self.t("promo.problem", problem=_md(p.problem)))
            lines += ["", *self._conditions(p), ""]
        return lines

    def _conditions(self, p: PromotionRow) -> list[str]:
        from releasegate.notices.catalogue import has_phrase, phrase

        def word(kind: str, value: object) -> str:
            key = f"{kind}.{value}"
            return phrase(self.lang, key) if has_phrase(self.lang, key) else _md(value)

        replayed = {(c.kind, c.name): c.status for c in (p.replayed.conditions
                                                         if p.replayed else ())}
        rows, seen = [], set()
        for c in p.recorded or []:
            ident = (str(c.get("kind")), str(c.get("name")))
            seen.add(ident)
            again = replayed.get(ident)
            rows.append([word("kind", c.get("kind")), _md(c.get("name")),
                         word("status", c.get("status")),
                         word("status", again) if again else "—", _md(c.get("detail", ""))])
        for again_only in p.replayed.conditions if p.replayed else ():
            if (again_only.kind, again_only.name) not in seen:
                rows.append([word("kind", again_only.kind), _md(again_only.name), "—",
                             word("status", again_only.status), _md(again_only.detail)])
        if not rows:
            return []
        return _table([self.t(k) for k in ("col.condition", "col.name", "col.recorded",
                                           "col.replayed", "col.detail")], rows)

    def _findings(self) -> list[str]:
        lines = [f"## {self.t('h.findings')}", ""]
        if not self.record.findings:
            return [*lines, self.t("findings.none"), ""]
        lines += [self.t("findings.lead"), ""]
        prefix = f"{PATCHES}/{self.record.patch}/"
        ordered = sorted(self.record.findings, key=lambda f: f.severity != ERROR)
        colon = ": " if self.lang == "en" else "："
        for f in ordered:
            where = (f.file or f.patch or "").removeprefix(prefix)
            lines.append(f"- **{self.t('severity.' + f.severity)}** {_md(where)}{colon}"
                         f"{_md(f.what)}")
        return [*lines, ""]


def summary(record: Record, lang: str) -> str:
    """The record for a person, in `lang` (en or zh-CN)."""
    return _Summary(record, lang).render()

