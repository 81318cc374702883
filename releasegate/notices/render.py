"""Laying a notice out with jinja2 (markdown, plain text, HTML) and building its e-mail.

The templates ship in the package (`releasegate/notices/templates/`); a ledger
overrides any of them by committing `templates/<same name>`, read from the committed
snapshot, never the working tree. Undefined values fail (StrictUndefined), HTML is
autoescaped, and every markdown value is escaped so that it reads as text: no HTML,
link, image, code span or emphasis can start in it, nor a heading, list or quote
where it starts a line. Whatever the templates make, the output holds no control
character (`tidy`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from releasegate.core.errors import InputError
from releasegate.core.model import Pipeline
from releasegate.core.state import PatchState
from releasegate.core.text import shown_text
from releasegate.notices.catalogue import phrase
from releasegate.notices.context import Report, build_context

if TYPE_CHECKING:
    from email.message import EmailMessage

    import jinja2

    from releasegate.ledger.snapshot import Snapshot

TEMPLATES = "templates"
BUILTIN = "builtin/"
DEFAULT_SENDER = "releasegate <noreply@releasegate.invalid>"
_EXTENSIONS = {"md": "md", "text": "txt", "html": "html"}


@dataclass(frozen=True)
class RenderedNotice:
    """One notice in every shape the channels need."""

    patch: str
    kind: str
    audience: str
    lang: str
    subject: str  # one line, in the reader's language
    text: str  # plain text
    markdown: str  # markdown (chat webhooks use it)
    html: str  # a complete self-contained HTML document (inline CSS; no external requests)
    html_fragment: str  # the body part only, for embedding in a web page


def render_notice(snap: Snapshot | None, pipeline: Pipeline, state: PatchState,
                  report: Report | None, *, audience: str, lang: str, kind: str,
                  sender: str | None = None) -> RenderedNotice:
    """The notice of `kind` about `state` for `audience` in `lang`.

    Pure apart from reading template overrides committed in the ledger at `snap`
    (None: the built-in templates only). `report` (a GateReport) feeds the technical
    notice's tests and gate; `sender`, when given, is named in the footer.
    """
    from markupsafe import Markup

    notice = build_context(pipeline, state, report, audience=audience, lang=lang, kind=kind,
                           sender=sender)
    templates = NoticeTemplates(snap)
    values = {"notice": notice, "t": translator(lang)}
    fragment = tidy(templates.render("html", f"{audience}.html.j2", values))
    page = templates.render("html", "page.html.j2",
                            {**values, "body": Markup(fragment.rstrip("\n"))})
    return RenderedNotice(
        patch=notice.patch, kind=kind, audience=audience, lang=lang, subject=notice.subject,
        text=tidy(templates.render("text", f"{audience}.txt.j2", values)),
        markdown=tidy(templates.render("md", f"{audience}.md.j2",
                                       {**values, "t": translator(lang, markdown=True)})),
        html=tidy(page), html_fragment=fragment)


# -- templates ---------------------------------------------------------------------------

class NoticeTemplates:
    """The jinja2 environments of one rendering, sharing a loader that looks in the
    ledger's committed templates/ first and the package second."""

    def __init__(self, snap: Snapshot | None) -> None:
        self.snap = snap
        self.origins: dict[str, str] = {}  # the file name jinja2 knows -> where it is from
        self.environments: dict[str, jinja2.Environment] = {}
        if snap is not None:
            snap.prefetch([TEMPLATES])

    def render(self, fmt: str, name: str, values: dict[str, Any]) -> str:
        import jinja2

        try:
            return self._environment(fmt).get_template(name).render(values)
        except jinja2.TemplateSyntaxError as exc:
            raise self._error(exc.filename or exc.name or name, exc.lineno,
                              exc.message or str(exc)) from None
        except jinja2.TemplateError as exc:
            filename, line = self._failing_line(exc)
            raise self._error(filename or name, line, exc.message or str(exc)) from None
        except RecursionError:
            raise self._error(f"{TEMPLATES}/{name}", None, "it includes or extends itself "
                              f"(to build on the built-in one, use '{BUILTIN}{name}')"
                              ) from None

    def _environment(self, fmt: str) -> jinja2.Environment:
        if fmt not in self.environments:
            import jinja2

            env = jinja2.Environment(
                loader=jinja2.FunctionLoader(self._load), undefined=jinja2.StrictUndefined,
                autoescape=fmt == "html", trim_blocks=True, lstrip_blocks=True,
                keep_trailing_newline=True, finalize=markdown_safe if fmt == "md" else None)
            env.filters["underline"] = underline
            if fmt == "md":
                env.filters["code"] = markdown_code
            self.environments[fmt] = env
        return self.environments[fmt]

    def _load(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        # "builtin/NAME" is always the package's template, so that an override can
        # extend the template it replaces.
        builtin = name.startswith(BUILTIN)
        name = name.removeprefix(BUILTIN)
        if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*\.j2", name):
            return None
        path = f"{TEMPLATES}/{name}"
        raw = self.snap.read(path) if self.snap is not None and not builtin else None
        if raw is not None:
            self.origins[path] = f"the ledger's {path}"
            return _decode(raw, path), path, lambda: True
        from importlib import resources

        resource = resources.files("releasegate.notices") / TEMPLATES / name
        if not resource.is_file():
            return None
        filename = str(resource)
        self.origins[filename] = f"the built-in template {name}"
        return resource.read_text(encoding="utf-8"), filename, lambda: True

    def _failing_line(self, exc: BaseException) -> tuple[str | None, int | None]:
        """The innermost template line the traceback passes through."""
        found: tuple[str | None, int | None] = (None, None)
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename in self.origins:
                found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
            tb = tb.tb_next
        return found

    def _error(self, filename: str, line: int | None, message: str) -> InputError:
        origin = self.origins.get(filename, f"template {filename}")
        ours = filename.startswith(f"{TEMPLATES}/")
        name = filename.rsplit("/", 1)[-1]
        return InputError(
            f"cannot render {origin}: {message}", code="template",
            file=filename if ours else name, line=line,
            hint=(f"fix {filename} and commit it, or remove it to use the built-in {name}; "
                  "the values a template may use are listed in releasegate/notices/context.py"
                  if ours else "a built-in template failed: please report it"))


def _decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte {exc.start})", file=path, code="template",
                         hint="save the template as UTF-8 and commit it") from None


def translator(lang: str, *, markdown: bool = False) -> Callable[..., str]:
    """`t(key, **values)` for templates: the phrase `key` in `lang` with its values. For
    markdown each value is escaped (a `Markdown` one is kept as made) and the phrase
    comes back as `Markdown`, so that the template's finalize leaves it alone."""

    def t(key: str, **values: object) -> str:
        import jinja2

        try:
            if markdown:
                return Markdown(markdown_block_safe(phrase(lang, key, **{
                    name: value if isinstance(value, Markdown) else markdown_inline(value)
                    for name, value in values.items()})))
            return phrase(lang, key, **values)
        except (KeyError, IndexError):
            raise jinja2.UndefinedError(f"the {lang} catalogue has no phrase '{key}' taking "
                                        f"these values: {', '.join(values) or 'none'}"
                                        ) from None
    return t


# -- filters and finishing -----------------------------------------------------------------

# What makes a line more than text in CommonMark: a heading, quote, list item, thematic
# break or setext underline, code fence, table row, HTML block, link definition.
_MARKDOWN_LINE_START = re.compile(
    r"^(?:(\d{1,9})([.)])(?=\s|$)|(#{1,6})(?=\s|$)|([-+*=_])(?=\s|$|[-*_= \t]*$)|(`|~)(?=\5\5)"
    r"|([>|<\[]))", re.MULTILINE)


class Markdown(str):
    """Markdown a template made on purpose (a code span, a phrase whose values are
    escaped already): `markdown_safe` keeps it as it is."""


# What starts markup inside a line in CommonMark (and GFM's tables and strikethrough):
# a backslash escape, code span, HTML tag or autolink, link or image, table cell, heading
# closer, an entity reference; and a run of * or _ that can open emphasis (below).
_MARKDOWN_INLINE = re.compile(r"[\\`<\[\]|~#]|&(?=#?[0-9A-Za-z]+;)|\*+|_+")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _kind_of(char: str) -> str:
    """CommonMark's classes for flanking: whitespace, punctuation or other."""
    if not char or char.isspace():
        return "space"
    if char in _PUNCTUATION or unicodedata.category(char).startswith(("P", "S")):
        return "punctuation"
    return "other"


def markdown_inline(value: Any) -> str:
    """`value` as text with every character that would start inline markup escaped. A
    run of * or _ is escaped only when it could open emphasis (left-flanking; for _ not
    inside a word), so `test_fee_cross` and `regression*` stay as written. The value's
    edges count as spaces, since the template's text around them is not known here."""
    text = str(value)

    def escape(match: re.Match[str]) -> str:
        run = match.group()
        if run[0] not in "*_":
            return "\\" + run
        before = _kind_of(text[match.start() - 1] if match.start() else "")
        after = _kind_of(text[match.end()] if match.end() < len(text) else "")
        left = after != "space" and (after != "punctuation" or before != "other")
        right = before != "space" and (before != "punctuation" or after != "other")
        opens = left and (run[0] == "*" or not right or before == "punctuation")
        return "".join("\\" + c for c in run) if opens else run

    return _MARKDOWN_INLINE.sub(escape, text)


def markdown_block_safe(text: str) -> str:
    """`text` that cannot turn into markdown structure where a line starts: leading
    blanks go, and the character that would start a block is backslash-escaped."""

    def escape(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return f"{match.group(1)}\\{match.group(2)}"
        return "\\" + match.group(0)

    return _MARKDOWN_LINE_START.sub(escape, re.sub(r"^[ \t]+", "", text, flags=re.MULTILINE))


def markdown_safe(value: Any) -> Any:
    """The markdown templates' finalize: a string value reads as text, inline and where
    a line starts; `Markdown` made on purpose is kept."""
    if not isinstance(value, str) or isinstance(value, Markdown):
        return value
    return markdown_block_safe(markdown_inline(value))


def markdown_code(value: Any) -> Markdown:
    """`value` as a markdown code span, whatever it holds: fenced by more backticks than
    it has in a row, on one line (a code span shows its content literally)."""
    text = " ".join(str(value).split("\n"))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal or a fixed-width font (CJK counts two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def underline(text: str, rule: str = "-") -> str:
    """A plain-text heading: the text over a rule as wide as it."""
    longest = max((display_width(line) for line in text.splitlines()), default=0)
    return f"{text}\n{rule * max(longest, 3)}"


def tidy(text: str) -> str:
    """Without trailing spaces and runs of blank lines, ending in one newline, and with a
    visible escape for any control character the values brought (`shown_text`)."""
    lines = [line.rstrip() for line in shown_text(text).strip("\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


# -- e-mail ----------------------------------------------------------------------------------

def build_email(notice: RenderedNotice, sender: str, to: Sequence[str]) -> EmailMessage:
    """The notice as a multipart/alternative e-mail (plain text and HTML, UTF-8) with
    From (`sender`, else releasegate's no-reply address), To (left out when empty),
    Subject, Date, Message-ID and MIME-Version, ready for SMTP."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import format_datetime, make_msgid

    from releasegate.core import clock, mail_headers

    # 7bit: bodies go as base64 or quoted-printable, safe through any relay; the
    # Subject is folded by mail_headers, which the policy must not refold.
    message = EmailMessage(policy=SMTP.clone(cte_type="7bit", refold_source="none"))
    _set_addresses(message, sender or DEFAULT_SENDER, to)
    mail_headers.set_text(message, "Subject", notice.subject)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(idstring=f"{notice.patch}.{notice.kind}",
                                       domain=_domain(message))
    message["Content-Language"] = notice.lang
    message.set_content(notice.text, subtype="plain", charset="utf-8")
    message.add_alternative(notice.html, subtype="html", charset="utf-8")
    return message


def _set_addresses(message: EmailMessage, sender: str, to: Sequence[str]) -> None:
    try:
        message["From"] = sender
        if to:
            message["To"] = ", ".join(to)
    except (ValueError, IndexError) as exc:
        raise InputError(f"not a usable e-mail address: {exc}", code="bad-address") from None
    for field in ("From", "To"):
        header = message[field]
        if header is None:
            continue
        bad = [str(a) for a in header.addresses if not a.username or not a.domain]
        if bad or not header.addresses:
            raise InputError(f"{field}: not an e-mail address: {', '.join(bad) or header}",
                             code="bad-address", hint="e.g. IT Operations <itops@bank.example>")


def _domain(message: EmailMessage) -> str:
    addresses = message["From"].addresses
    return str(addresses[0].domain) if addresses else "releasegate.invalid"
