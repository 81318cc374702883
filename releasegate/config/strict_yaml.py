"""The one adapter through which releasegate reads and writes YAML.

Loading is narrower than YAML: every plain scalar except the null forms is a string,
and tags, anchors, aliases, merge keys, duplicate keys, non-string keys and files of
more than one document are refused with an `InputError` naming file, line and column.
libyaml (PyYAML's C parser) composes the nodes; the Python walk that turns them into
dicts, lists and strings is cheaper than PyYAML's constructor, as it resolves only null.

Speed, as time / time of `yaml.load(text, Loader=yaml.CSafeLoader)` on the same input
(min of 9 timeit runs, CPython 3.11, PyYAML 6.0.4 on libyaml 0.2.6):

    input                               load_yaml_fast   load_yaml
    20-line event file                       0.39x          0.45x
    300-line config                          0.39x          0.45x
    20-line event file holding an '&'        0.57x          0.67x
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from releasegate.core.errors import InputError

try:
    from yaml._yaml import CParser as _Parser
    from yaml.cyaml import CSafeDumper as _BaseDumper
except ImportError:  # PyYAML built without libyaml: same rules, about 7x slower
    import sys

    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.resolver import BaseResolver
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer, BaseResolver):  # type: ignore[no-redef]
        """PyYAML's pure-Python reader, scanner, parser and composer, in libyaml's place."""

        def __init__(self, stream: bytes) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            BaseResolver.__init__(self)

        def compose_scalar_node(self, anchor: Any) -> ScalarNode:
            node: ScalarNode = Composer.compose_scalar_node(self, anchor)
            node.style = node.style or ""  # libyaml's mark of a plain scalar
            return node

    sys.stderr.write("warning: PyYAML was built without libyaml, so releasegate reads YAML "
                     "about 7 times slower; install libyaml (Debian: libyaml-dev) and "
                     "reinstall PyYAML (`pip install --force-reinstall --no-binary pyyaml "
                     "pyyaml`)\n")

DEFAULT_MAX_BYTES = 1024 * 1024

# Without a limit of its own the walk would stop at Python's recursion limit with a
# RecursionError; no releasegate file nests anywhere near this deep.
MAX_DEPTH = 100

Path_ = tuple[str | int, ...]

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_SIMPLE_KEY = re.compile(r"[^\s.\[\]\"']+")
_PROPERTY = re.compile(r"!<[^>]*>|[&!][^\s,\[\]{}]*")
_ALIAS_HINT = "write the repeated content out in full where it is used"
_SYNTAX_HINT = "check the indentation (spaces, never tabs) and the quoting near this spot"


@dataclass(frozen=True)
class Document:
    """Loaded YAML data plus where each key and item came from, for error messages."""

    data: Any
    source: str
    marks: Mapping[Path_, tuple[int, int]] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """Line of `path`, or of its nearest ancestor that has a mark; None if none has."""
        mark = self._nearest_mark(path)
        return mark[0] if mark else None

    def error(
        self,
        path: Path_,
        message: str,
        *,
        hint: str | None = None,
        cls: type[InputError] = InputError,
    ) -> InputError:
        """An error of type `cls` placed at `path`, or at its nearest marked ancestor."""
        mark = self._nearest_mark(path)
        line, column = mark if mark else (None, None)
        return cls(message, file=self.source, line=line, column=column,
                   key=format_path(path) or None, hint=hint)

    def _nearest_mark(self, path: Path_) -> tuple[int, int] | None:
        # A path naming a missing key still deserves a line: its parent's.
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return None


def format_path(path: Path_) -> str:
    """Render a key path for people: ("environments", 1, "gate") -> "environments[1].gate"."""
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _SIMPLE_KEY.fullmatch(step):
            parts.append(f".{step}" if parts else step)
        else:
            # Quoted, so that a key holding a dot or a space cannot read as two steps.
            parts.append(f"[{json.dumps(step, ensure_ascii=False)}]")
    return "".join(parts)


def load_yaml(
    content: bytes | str, source: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Document:
    """Parse one YAML document by the strict rules above and record where each path is.

    Raises InputError naming `source`, line and column for anything it refuses.
    """
    root = _compose(_encode(content, source), source, max_bytes)
    if root is None:
        return Document(data=None, source=source, marks={})
    marks: dict[Path_, tuple[int, int]] = {(): _position(root.start_mark)}
    data = _guard(source, lambda: _build_marked(root, (), marks, 0))
    return Document(data=data, source=source, marks=marks)


def load_yaml_fast(content: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Like `load_yaml`, same rules and errors, but return only the data (no marks).

    Meant for the files releasegate wrote itself and reads in bulk, such as events.
    """
    root = _compose(content, source, max_bytes)
    if root is None:
        return None
    return _guard(source, lambda: _build_fast(root, 0))


def dump_yaml(data: Any) -> str:
    """Block-style YAML for `data`, keys in insertion order, that `load_yaml` reads back.

    Takes dicts with string keys, lists, tuples, strings and None; bools and numbers
    are written plainly and so load back as strings. Anything else is a TypeError.
    """
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, allow_unicode=True,
                     sort_keys=False, width=100)


# --- loading: bytes to nodes ---------------------------------------------------------


class _Composer(_Parser):
    """libyaml's composer with PyYAML's tag resolution switched off.

    The parser calls these hooks for every node. The walk decides null from the scalar
    style itself, and "" as the implicit tag lets a real tag stand out.
    """

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return ""

    def descend_resolver(self, parent: Any, index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


class _Refusal(Exception):
    """A node the walk refuses; becomes an InputError where the source is known."""

    def __init__(self, node: Node, message: str, hint: str) -> None:
        super().__init__(message)
        self.node, self.message, self.hint = node, message, hint


def _encode(content: bytes | str, source: str) -> bytes:
    if isinstance(content, bytes):
        return content
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"text cannot be written as UTF-8 ({exc.reason})", file=source,
                         hint="remove the unpaired surrogate character") from None


def _compose(content: bytes, source: str, max_bytes: int) -> Node | None:
    if len(content) > max_bytes:
        raise InputError(
            f"{source} is {len(content)} bytes, over the limit of {max_bytes} bytes",
            file=source, hint="split the file, or leave bulky data out of it")
    text = _decode(content, source)
    try:
        root = _Composer(content).get_single_node()
    except yaml.YAMLError as exc:
        raise _convert_yaml_error(exc, content, source) from None
    # An anchor needs an '&' and a tag a '!', so only files holding one pay for this
    # extra walk. Composing never expands aliases (an alias is the anchored node
    # itself), and the walk stops at the first anchor: an alias bomb stays small.
    if root is not None and ("&" in text or "!" in text):
        _guard(source, lambda: _refuse_properties(root, text))
    return root


def _decode(content: bytes, source: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(content, exc.start)
        raise InputError(
            f"not valid UTF-8: byte 0x{content[exc.start]:02x} cannot be decoded",
            file=source, line=line, column=column,
            hint="save the file as UTF-8 (a UTF-8 byte order mark is fine)") from None


def _refuse_properties(root: Node, text: str) -> None:
    """Refuse the first anchor, alias or tag, in document order."""
    # libyaml starts a node's mark at its first property (`&a`, `!t`), counting
    # characters after any BOM. The other two tests back that up: an explicit tag
    # never resolves to our "", and an alias is a node met a second time.
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if node.tag or id(node) in seen or text.startswith(("&", "!"), node.start_mark.index):
            _refuse_property(node, text)
        seen.add(id(node))
        if node.__class__ is MappingNode:
            pending.extend(part for pair in reversed(node.value) for part in reversed(pair))
        elif node.__class__ is SequenceNode:
            pending.extend(reversed(node.value))


def _refuse_property(node: Node, text: str) -> NoReturn:
    found = _PROPERTY.match(text, node.start_mark.index)
    word = found.group() if found else (node.tag or "*")
    if word[0] in "&*":
        raise _Refusal(node, f"anchors and aliases are not allowed (found '{word}')",
                       _ALIAS_HINT)
    raise _Refusal(node, f"tags are not allowed (found '{word}')",
                   "remove the tag; releasegate reads every value as plain text")


def _convert_yaml_error(exc: yaml.YAMLError, content: bytes, source: str) -> InputError:
    if isinstance(exc, yaml.MarkedYAMLError):
        return _convert_marked_error(exc, source)
    if isinstance(exc, yaml.reader.ReaderError):
        line, column = _byte_position(content, exc.position)
        return InputError(f"character 0x{exc.character:02x} is not allowed: {exc.reason}",
                          file=source, line=line, column=column,
                          hint="remove the control character")
    return InputError(f"invalid YAML: {exc}", file=source, hint=_SYNTAX_HINT)


def _convert_marked_error(exc: yaml.MarkedYAMLError, source: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line, column = _position(mark) if mark else (None, None)
    context = exc.context or ""
    if context == "expected a single document in the stream":
        message = "more than one YAML document in the file"
        hint = "keep one document per file: remove the '---' line and what follows it"
    elif exc.problem == "found undefined alias" or context.startswith("found duplicate anchor"):
        message, hint = "anchors and aliases are not allowed", _ALIAS_HINT
    else:
        message = f"invalid YAML: {context + ': ' if context else ''}{exc.problem}"
        hint = _SYNTAX_HINT
    return InputError(message, file=source, line=line, column=column, hint=hint)


def _byte_position(content: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte `offset` in UTF-8 `content`."""
    line_start = content.rfind(b"\n", 0, offset) + 1
    prefix = content[line_start:offset].decode("utf-8", errors="replace")
    return content.count(b"\n", 0, offset) + 1, len(prefix.lstrip("\ufeff")) + 1


def _position(mark: Any) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


# --- loading: nodes to plain data ----------------------------------------------------
#
# Composing in libyaml is ~85% of a load; these walks are the rest. There are two
# rather than one with a flag because the fast one is the hot path of every ledger
# read and keeps no paths. Scalar values are handled inline: a call each made the
# walk ~15% slower.


def _guard(source: str, walk: Callable[[], Any]) -> Any:
    try:
        return walk()
    except _Refusal as refusal:
        line, column = _position(refusal.node.start_mark)
        raise InputError(refusal.message, file=source, line=line, column=column,
                         hint=refusal.hint) from None


def _build_fast(node: Node, depth: int) -> Any:
    if node.__class__ is ScalarNode:
        value = node.value
        return None if node.style == "" and value in _NULLS else value
    if depth >= MAX_DEPTH:
        _refuse_depth(node)
    if node.__class__ is SequenceNode:
        return [_build_fast(item, depth + 1) for item in node.value]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = _key(key_node)
        if key in result:
            _refuse_duplicate(node, key_node, key)
        if value_node.__class__ is ScalarNode:
            value = value_node.value
            result[key] = None if value_node.style == "" and value in _NULLS else value
        else:
            result[key] = _build_fast(value_node, depth + 1)
    return result


def _build_marked(
    node: Node, path: Path_, marks: dict[Path_, tuple[int, int]], depth: int
) -> Any:
    if node.__class__ is ScalarNode:
        value = node.value
        return None if node.style == "" and value in _NULLS else value
    if depth >= MAX_DEPTH:
        _refuse_depth(node)
    if node.__class__ is SequenceNode:
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            marks[child] = _position(item.start_mark)
            items.append(_build_marked(item, child, marks, depth + 1))
        return items
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = _key(key_node)
        if key in result:
            _refuse_duplicate(node, key_node, key)
        child = (*path, key)
        marks[child] = _position(key_node.start_mark)
        result[key] = _build_marked(value_node, child, marks, depth + 1)
    return result


def _key(node: Node) -> str:
    if node.__class__ is not ScalarNode:
        kind = "mapping" if node.__class__ is MappingNode else "list"
        raise _Refusal(node, f"a key must be a string, not a {kind}",
                       "use a plain word as the key and put the structure in its value")
    value: str = node.value
    if node.style == "" and value in _NULLS:
        raise _Refusal(node, "a key must be a string, not null",
                       f"quote the key if '{value}' is meant literally")
    if node.style == "" and value == "<<":
        raise _Refusal(node, "merge keys ('<<') are not allowed",
                       "write the merged keys out in full in this mapping")
    return value


def _refuse_duplicate(mapping: Node, key_node: Node, key: str) -> NoReturn:
    # Looked up only on this error path, so the fast walk need not keep key positions.
    first = next(k for k, _ in mapping.value if k.__class__ is ScalarNode and k.value == key)
    raise _Refusal(key_node, f"duplicate key '{key}' (first on line {first.start_mark.line + 1})",
                   "remove one of the two; YAML keeps only one value per key")


def _refuse_depth(node: Node) -> NoReturn:
    raise _Refusal(node, f"nested deeper than {MAX_DEPTH} levels",
                   "flatten the structure; releasegate files are never this deep")


# --- dumping -------------------------------------------------------------------------


class _Dumper(_BaseDumper):
    """A safe dumper that never writes anchors or tags and refuses unknown types."""

    def ignore_aliases(self, data: Any) -> bool:
        # A shared sub-structure is written out again, since the loader refuses aliases.
        return True


def _represent_str(dumper: _Dumper, text: str) -> Node:
    # Literal blocks keep multi-line text readable; the emitter falls back to quoting
    # when the text cannot be one (trailing spaces, unusual line breaks).
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str.__str__(text), style=style)


def _represent_dict(dumper: _Dumper, data: dict[Any, Any]) -> Node:
    for key in data:
        if not isinstance(key, str):
            raise TypeError(f"dump_yaml: mapping key {key!r} is not a string")
    return dumper.represent_dict(data)


def _represent_sequence(dumper: _Dumper, data: list[Any] | tuple[Any, ...]) -> Node:
    return dumper.represent_list(data)


def _represent_unknown(dumper: _Dumper, data: Any) -> Node:
    raise TypeError(f"dump_yaml: cannot write a {type(data).__name__} as YAML")


def _install_representers() -> None:
    # Start from nothing, so that bytes, sets and dates (which would be written with a
    # tag, or turn into strings unnoticed) are refused rather than written.
    _Dumper.yaml_representers = {}
    _Dumper.yaml_multi_representers = {}
    _Dumper.add_representer(str, _represent_str)
    _Dumper.add_representer(dict, _represent_dict)
    _Dumper.add_representer(list, _represent_sequence)
    _Dumper.add_representer(tuple, _represent_sequence)
    _Dumper.add_representer(type(None), yaml.SafeDumper.represent_none)
    _Dumper.add_representer(bool, yaml.SafeDumper.represent_bool)
    _Dumper.add_representer(int, yaml.SafeDumper.represent_int)
    _Dumper.add_representer(float, yaml.SafeDumper.represent_float)
    # Subclasses (a StrEnum member, an OrderedDict) are written as their base type.
    _Dumper.add_multi_representer(str, _represent_str)
    _Dumper.add_multi_representer(dict, _represent_dict)
    # PyYAML keys the fallback for all other types by None, which its stubs do not allow.
    _Dumper.add_representer(None, _represent_unknown)  # type: ignore[arg-type]


_install_representers()
