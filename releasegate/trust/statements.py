"""The statements people sign: canonical JSON shaped like an in-toto Statement v1.

The subject is the patch's artifact digest; the predicate names the ledger, the patch,
the environment whose gate it serves, the signer, the time, what was decided, and the
sha256 of each piece of gate evidence the signer saw, so a signature over older
evidence is visibly stale. The bytes are canonical (sorted keys, no spaces, UTF-8):
the same statement always has the same bytes, and those stored bytes are what is
verified and then parsed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from releasegate.core.errors import InputError
from releasegate.core.model import Event

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPES = {kind: f"urn:releasegate:{kind}:v1" for kind in ("signoff", "checklist",
                                                                    "waiver")}
MAX_BYTES = 256 * 1024


def canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def build(kind: str, *, ledger: str, patch: str, digest: str, env: str, signer: str,
          at: str, decided: Mapping[str, Any], evidence: Sequence[Mapping[str, str]]) -> bytes:
    """The canonical bytes of a `kind` statement (signoff, checklist or waiver)."""
    return canonical({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": patch, "digest": {"sha256": digest.removeprefix("sha256:")}}],
        "predicateType": PREDICATE_TYPES[kind],
        "predicate": {"ledger": ledger, "patch": patch, "env": env, "signer": signer,
                      "time": at, **decided, "evidence": list(evidence)},
    })


def parse(raw: bytes, source: str) -> dict[str, Any]:
    """The statement in `raw`, which must be canonical; InputError otherwise."""
    try:
        if len(raw) > MAX_BYTES:
            raise ValueError(f"over {MAX_BYTES} bytes")
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict) or canonical(doc) != raw:
            raise ValueError("not in canonical form")
        if doc.get("_type") != STATEMENT_TYPE or doc.get("predicateType") not in \
                PREDICATE_TYPES.values() or not isinstance(doc.get("predicate"), dict):
            raise ValueError("not a releasegate statement")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the signed statement cannot be read ({exc})", file=source,
                         code="bad-signature") from None
    return doc


def mismatches(doc: Mapping[str, Any], event: Event, *, kind: str, ledger: str,
               decided: Mapping[str, Any]) -> list[str]:
    """How a parsed statement differs from the event it is stored for (empty: it fits)."""
    predicate = doc["predicate"]
    subject = doc.get("subject") or [{}]
    expected = {"ledger": ledger, "patch": event.patch, "env": event.env,
                "signer": event.actor, "time": event.at, **decided}
    found = [f"{name} is {predicate.get(name)!r}, the event says {value!r}"
             for name, value in expected.items() if predicate.get(name) != value]
    if doc.get("predicateType") != PREDICATE_TYPES[kind]:
        found.append(f"it is a {doc.get('predicateType')} statement, not a {kind}")
    digest = event.digest.removeprefix("sha256:")
    if subject[0].get("name") != event.patch or \
            (subject[0].get("digest") or {}).get("sha256") != digest:
        found.append("its subject is not this patch's digest")
    return found


def decided(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a `kind` event decided, as its statement must name it: the role and the
    decision of a sign-off (and its comment; for a proxy sign-off also whom it was
    recorded for, by whom, and the sha256 of its evidence), the template and the sha256 of the
    canonical answers of a checklist, the test pattern, reason and expiry of a waiver."""
    if kind == "signoff":
        found = {"role": data.get("role"), "decision": data.get("decision")}
        if data.get("comment"):
            found["comment"] = data["comment"]
        if "proxy" in data:  # recorded on someone's behalf: whose, and on what evidence
            proxy = data["proxy"] if isinstance(data["proxy"], Mapping) else {}
            found["proxy"] = {k: proxy.get(k) for k in ("for", "recorded_by",
                                                         "evidence_sha256")}
        return found
    if kind == "checklist":
        answers = hashlib.sha256(canonical(data.get("answers") or {})).hexdigest()
        return {"template": data.get("template"), "answers_sha256": answers}
    return {"test": data.get("test"), "reason": data.get("reason"), "until": data.get("until")}


def seen_evidence(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    seen = doc["predicate"].get("evidence")
    return [dict(item) for item in seen] if isinstance(seen, list) else []
