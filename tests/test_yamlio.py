"""The YAML adapter: what it loads, what it refuses (and where it says), what it writes."""

from __future__ import annotations

from collections import OrderedDict
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from releasegate.config.strict_yaml import (
    DEFAULT_MAX_BYTES,
    Document,
    dump_yaml,
    format_path,
    load_yaml,
    load_yaml_fast,
)
from releasegate.core.errors import ConfigError, InputError

FIXTURES = Path(__file__).parent / "fixtures" / "yaml"

CONFIG = """\
version: 1
# the pipeline
environments:
  - name: dev
    gate: {checklists: [intake]}
  - name: test
    gate:
      signoffs:
        - role: app-owner
people:
  alice: {name: Alice Wang, email: alice@bank.example}
"""


def refusal(content: bytes | str, source: str = "f.yaml", **kwargs: Any) -> InputError:
    """The error load_yaml raises, after checking load_yaml_fast raises the very same."""
    with pytest.raises(InputError) as caught:
        load_yaml(content, source, **kwargs)
    raw = content.encode("utf-8") if isinstance(content, str) else content
    with pytest.raises(InputError) as caught_fast:
        load_yaml_fast(raw, source, **kwargs)
    assert caught_fast.value.to_dict() == caught.value.to_dict()
    return caught.value


def fixture_refusal(name: str) -> InputError:
    return refusal((FIXTURES / name).read_bytes(), name)


# --- what loads ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["yes", "NO", "on", "Off", "true", "False", "0777", "1",
                                  "-1", "0.5", "1e3", ".inf", ".nan", "0x1F", "2026-01-01",
                                  "2026-01-01T10:00:00Z", "1:20", "=", "<<x"])
def test_plain_scalars_load_as_the_same_string(text: str) -> None:
    assert load_yaml(f"value: {text}\n", "f.yaml").data == {"value": text}
    assert load_yaml_fast(f"- {text}\n".encode(), "f.yaml") == [text]


@pytest.mark.parametrize("text", ["~", "null", "Null", "NULL", ""])
def test_null_forms_load_as_none(text: str) -> None:
    assert load_yaml(f"value: {text}\nitems: [{text}]\n", "f.yaml").data == {
        "value": None, "items": [None] if text else []}


@pytest.mark.parametrize("text", ["'~'", "'null'", '"NULL"', "''", '""', "'yes'", '"1"'])
def test_quoted_scalars_stay_strings(text: str) -> None:
    assert load_yaml(f"value: {text}\n", "f.yaml").data == {"value": text[1:-1]}


def test_nested_structures_keep_their_order_and_shape() -> None:
    data = load_yaml(CONFIG, "releasegate.yaml").data
    assert data == {
        "version": "1",
        "environments": [
            {"name": "dev", "gate": {"checklists": ["intake"]}},
            {"name": "test", "gate": {"signoffs": [{"role": "app-owner"}]}},
        ],
        "people": {"alice": {"name": "Alice Wang", "email": "alice@bank.example"}},
    }
    assert list(data) == ["version", "environments", "people"]


def test_fast_loader_reads_the_same_data() -> None:
    assert load_yaml_fast(CONFIG.encode(), "releasegate.yaml") == load_yaml(
        CONFIG, "releasegate.yaml").data


@pytest.mark.parametrize("content", [b"", b"# only a comment\n", b"\n\n"])
def test_empty_file_loads_as_none(content: bytes) -> None:
    doc = load_yaml(content, "empty.yaml")
    assert doc.data is None
    assert doc.line_of(()) is None
    assert load_yaml_fast(content, "empty.yaml") is None


def test_single_document_markers_are_fine() -> None:
    assert load_yaml("---\na: b\n...\n", "f.yaml").data == {"a": "b"}


def test_utf8_bom_and_chinese_text_are_accepted() -> None:
    content = "\ufeff说明: 核心系统补丁\n".encode()
    doc = load_yaml(content, "f.yaml")
    assert doc.data == {"说明": "核心系统补丁"}
    assert doc.marks[("说明",)] == (1, 1)


def test_text_input_is_accepted() -> None:
    assert load_yaml("a: [x, y]\n", "f.yaml").data == {"a": ["x", "y"]}


def test_ampersands_and_exclamation_marks_in_text_are_not_anchors_or_tags() -> None:
    content = "title: R&D fix!\nnote: 'a &b !c'\nurl: http://x.example/?a=1&b=2\n"
    assert load_yaml_fast(content.encode(), "f.yaml") == {
        "title": "R&D fix!", "note": "a &b !c", "url": "http://x.example/?a=1&b=2"}


# --- marks and errors placed by path -------------------------------------------------


def test_marks_give_line_and_column_of_each_key_and_item() -> None:
    doc = load_yaml(CONFIG, "releasegate.yaml")
    assert doc.marks[("version",)] == (1, 1)
    assert doc.marks[("environments",)] == (3, 1)
    assert doc.marks[("environments", 1)] == (6, 5)
    assert doc.marks[("environments", 1, "gate")] == (7, 5)
    assert doc.marks[("environments", 1, "gate", "signoffs", 0, "role")] == (9, 11)
    assert doc.marks[("environments", 0, "gate", "checklists", 0)] == (5, 25)
    assert doc.marks[("people", "alice", "email")] == (11, 29)


def test_line_of_a_missing_path_is_the_line_of_its_nearest_ancestor() -> None:
    doc = load_yaml(CONFIG, "releasegate.yaml")
    assert doc.line_of(("environments", 1, "gate", "signoffs", 0, "role")) == 9
    assert doc.line_of(("environments", 1, "gate", "soak")) == 7
    assert doc.line_of(("nowhere", "at", "all")) == 1


def test_error_names_file_line_column_and_key() -> None:
    doc = load_yaml(CONFIG, "releasegate.yaml")
    error = doc.error(("environments", 1, "gate", "signoffs", 0, "role"),
                      "unknown role 'app-owner'", hint="did you mean 'app_owner'?")
    assert type(error) is InputError
    assert (error.file, error.line, error.column) == ("releasegate.yaml", 9, 11)
    assert error.key == "environments[1].gate.signoffs[0].role"
    assert str(error) == ("releasegate.yaml:9:11: environments[1].gate.signoffs[0].role: "
                          "unknown role 'app-owner'\n  hint: did you mean 'app_owner'?")


def test_error_for_a_missing_key_points_at_its_parent_and_takes_a_class() -> None:
    doc = load_yaml(CONFIG, "releasegate.yaml")
    error = doc.error(("environments", 0, "gate", "tests"), "needs tests", cls=ConfigError)
    assert isinstance(error, ConfigError)
    assert (error.line, error.column, error.key) == (5, 5, "environments[0].gate.tests")


def test_error_in_an_empty_document_has_no_line() -> None:
    error = Document(data=None, source="empty.yaml", marks={}).error((), "empty")
    assert (error.file, error.line, error.column, error.key) == ("empty.yaml", None, None, None)
    assert str(error) == "empty.yaml: empty"


@pytest.mark.parametrize(("path", "text"), [
    ((), ""),
    (("environments",), "environments"),
    (("environments", 1, "gate"), "environments[1].gate"),
    ((0, "role"), "[0].role"),
    (("people", "alice@bank.example", "name"), 'people["alice@bank.example"].name'),
    (("roles", "app owner"), 'roles["app owner"]'),
    (("说明",), "说明"),
])
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


# --- hostile fixtures ----------------------------------------------------------------


def test_alias_bomb_is_refused_at_its_first_anchor() -> None:
    error = fixture_refusal("alias_bomb.yaml")
    assert (error.file, error.line, error.column) == ("alias_bomb.yaml", 2, 4)
    assert error.message == "anchors and aliases are not allowed (found '&a')"
    assert error.hint


def test_python_object_payload_is_refused_as_a_tag() -> None:
    error = fixture_refusal("python_object.yaml")
    assert (error.file, error.line, error.column) == ("python_object.yaml", 3, 8)
    assert error.message == "tags are not allowed (found '!!python/object/apply:os.system')"
    assert error.hint


def test_custom_tag_is_refused() -> None:
    error = fixture_refusal("custom_tag.yaml")
    assert (error.file, error.line, error.column) == ("custom_tag.yaml", 4, 12)
    assert error.message == "tags are not allowed (found '!junit')"


def test_duplicate_key_names_the_key_and_its_first_line() -> None:
    error = fixture_refusal("duplicate_key.yaml")
    assert (error.file, error.line, error.column) == ("duplicate_key.yaml", 5, 1)
    assert error.message == "duplicate key 'role' (first on line 3)"
    assert error.hint


def test_second_document_is_refused() -> None:
    error = fixture_refusal("multi_document.yaml")
    assert (error.file, error.line, error.column) == ("multi_document.yaml", 3, 1)
    assert error.message == "more than one YAML document in the file"
    assert error.hint and "---" in error.hint


def test_merge_key_is_refused() -> None:
    error = fixture_refusal("merge_key.yaml")
    assert (error.file, error.line, error.column) == ("merge_key.yaml", 6, 7)
    assert error.message == "merge keys ('<<') are not allowed"


def test_invalid_utf8_is_refused_with_its_position() -> None:
    error = fixture_refusal("invalid_utf8.yaml")
    assert (error.file, error.line, error.column) == ("invalid_utf8.yaml", 2, 13)
    assert error.message == "not valid UTF-8: byte 0xe9 cannot be decoded"
    assert error.hint and "UTF-8" in error.hint


def test_oversize_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    # Not even valid YAML: the size is checked first, so that is never noticed.
    big.write_bytes(b"a: [" + b"x" * DEFAULT_MAX_BYTES)
    error = refusal(big.read_bytes(), "big.yaml")
    assert error.file == "big.yaml"
    assert error.message == (f"big.yaml is {DEFAULT_MAX_BYTES + 4} bytes, "
                             f"over the limit of {DEFAULT_MAX_BYTES} bytes")
    assert error.hint


def test_max_bytes_is_a_limit_the_caller_sets() -> None:
    assert load_yaml(b"a: 123456", "f.yaml", max_bytes=9).data == {"a": "123456"}
    error = refusal(b"a: 1234567", "f.yaml", max_bytes=9)
    assert error.message == "f.yaml is 10 bytes, over the limit of 9 bytes"


# --- other refusals ------------------------------------------------------------------


@pytest.mark.parametrize(("content", "found", "column"), [
    ("a: !!str 1\n", "!!str", 4),
    ("a: !!binary aGVsbG8=\n", "!!binary", 4),
    ("run: !!python/name:os.system\n", "!!python/name:os.system", 6),
    ("x: !!python/object:os.Popen {}\n", "!!python/object:os.Popen", 4),
    ("a: ! plain\n", "!", 4),
    ("a: !<tag:yaml.org,2002:str> x\n", "!<tag:yaml.org,2002:str>", 4),
    ("a: !!map\n  b: c\n", "!!map", 4),
    ("a: [x, !t [y]]\n", "!t", 8),
    ("--- !!set\nb: c\n", "!!set", 5),
])
def test_every_tag_is_refused(content: str, found: str, column: int) -> None:
    error = refusal(content)
    assert error.message == f"tags are not allowed (found '{found}')"
    assert (error.line, error.column) == (content[:content.index(found)].count("\n") + 1,
                                          column)


@pytest.mark.parametrize(("content", "line", "column", "message"), [
    ("a: &x 1\nb: 2\n", 1, 4, "anchors and aliases are not allowed (found '&x')"),
    ("&k a: 1\n", 1, 1, "anchors and aliases are not allowed (found '&k')"),
    ("a: 1\nb: *x\n", 2, 4, "anchors and aliases are not allowed"),
    ("a: x\nb: [1, &y {c: d}]\n", 2, 8, "anchors and aliases are not allowed (found '&y')"),
])
def test_anchors_and_aliases_are_refused(content: str, line: int, column: int,
                                         message: str) -> None:
    error = refusal(content)
    assert (error.line, error.column, error.message) == (line, column, message)
    assert error.hint


def test_anchor_is_found_after_a_bom_windows_line_ends_and_wide_characters() -> None:
    content = "\ufeff说明: 中文😀\r\nb:\r\n  c: &anchor x\r\n".encode()
    error = refusal(content)
    assert (error.line, error.column) == (3, 6)
    assert error.message == "anchors and aliases are not allowed (found '&anchor')"


@pytest.mark.parametrize(("content", "message"), [
    ("? {a: 1}\n: x\n", "a key must be a string, not a mapping"),
    ("[a, b]: x\n", "a key must be a string, not a list"),
    ("~: x\n", "a key must be a string, not null"),
    ("null: x\n", "a key must be a string, not null"),
])
def test_keys_must_be_strings(content: str, message: str) -> None:
    error = refusal(content)
    assert (error.line, error.message) == (1, message)


def test_quoted_null_and_merge_keys_are_ordinary_strings() -> None:
    assert load_yaml("'null': x\n'<<': y\n", "f.yaml").data == {"null": "x", "<<": "y"}


def test_duplicate_key_inside_a_list_item_and_across_quoting() -> None:
    error = refusal("items:\n  - id: a\n    'id': b\n")
    assert (error.line, error.column) == (3, 5)
    assert error.message == "duplicate key 'id' (first on line 2)"


@pytest.mark.parametrize(("content", "line", "column", "problem"), [
    ("gate:\n\t- x\n", 2, 1, "found character that cannot start any token"),
    ("a: [1, 2\nb: c\n", 2, 2, "did not find expected ',' or ']'"),
    ("a: 'open\n", 2, 1, "found unexpected end of stream"),
    ("a: b: c\n", 1, 5, "mapping values are not allowed in this context"),
])
def test_syntax_errors_become_input_errors(content: str, line: int, column: int,
                                           problem: str) -> None:
    error = refusal(content)
    assert (error.line, error.column) == (line, column)
    assert error.message.startswith("invalid YAML: ")
    assert error.message.endswith(problem)
    assert error.hint and "tabs" in error.hint
    assert error.__cause__ is None


def test_control_character_is_refused_with_its_position() -> None:
    error = refusal("a: 中文\nb: x\x07y\n".encode())
    assert (error.line, error.column) == (2, 5)
    assert error.message == "character 0x07 is not allowed: control characters are not allowed"


def test_utf16_file_is_refused() -> None:
    error = refusal("a: b\n".encode("utf-16"))
    assert (error.line, error.column) == (1, 1)
    assert error.message.startswith("not valid UTF-8")


def test_text_that_is_not_encodable_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        load_yaml("a: \udc80\n", "f.yaml")
    assert caught.value.file == "f.yaml"


def test_deep_nesting_is_refused() -> None:
    error = refusal("a: " + "[" * 150 + "]" * 150 + "\n")
    assert error.line == 1
    assert error.message == "nested deeper than 100 levels"


# --- dumping -------------------------------------------------------------------------

TRICKY = ["yes", "NO", "no", "on", "true", "False", "null", "Null", "NULL", "~", "", " ",
          "0777", "1e3", "1", "0.5", ".inf", "2026-01-01", "12:30:45", "<<", "-", "---",
          "...", "a: b", "key: value\n- item", "# not a comment", "a #b", "#", "'", '"',
          "&a", "*a", "!tag", "|", ">", "[x]", "{x}", "@", "%", "`",
          "line one\nline two", "ends with a break\n", "two breaks\n\n", "\n",
          "  leading spaces", "  leading\nthen not", "trailing space ", "trailing \nspace",
          "\ttab", "a\r\nb", "a\u2028b", "\x85", "\ufeffbom", "\x00\x07\x1b",
          "核心系统补丁", "多行\n中文说明\n", "emoji 😀", "x" * 300, "word " * 80]


def test_dump_round_trips_tricky_strings() -> None:
    data = {"strings": TRICKY, "as keys": {text: text for text in TRICKY}}
    text = dump_yaml(data)
    assert load_yaml(text, "dumped.yaml").data == data
    assert load_yaml_fast(text.encode(), "dumped.yaml") == data


def test_dump_round_trips_nested_structures() -> None:
    data: dict[str, Any] = {
        "none": None, "empty list": [], "empty map": {},
        "nested": [{"a": [None, [], {}, [[]], {"b": None}]}, None, ["x", ["y"]]],
        "z first": {"z": "1", "a": "2"},
    }
    text = dump_yaml(data)
    back = load_yaml(text, "dumped.yaml").data
    assert back == data
    assert list(back["z first"]) == ["z", "a"]


def test_dump_is_block_style_in_insertion_order_with_unicode_kept() -> None:
    data = {"type": "signoff", "seq": "0007", "prev": None, "env": "prod",
            "approve": "yes", "comment": "同意上线\n回退方案已确认\n",
            "evidence": {"tests": [{"suite": "regression", "event": "0006"}]}}
    assert dump_yaml(data) == (
        "type: signoff\n"
        "seq: '0007'\n"
        "prev: null\n"
        "env: prod\n"
        "approve: 'yes'\n"
        "comment: |\n"
        "  同意上线\n"
        "  回退方案已确认\n"
        "evidence:\n"
        "  tests:\n"
        "  - suite: regression\n"
        "    event: '0006'\n"
    )


def test_dump_is_deterministic() -> None:
    data = {"b": ["x", {"c": None}], "a": "多行\n文本"}
    assert dump_yaml(data) == dump_yaml(dict(data))


def test_dump_writes_shared_objects_in_full_without_anchors() -> None:
    shared = {"role": "app-owner"}
    text = dump_yaml({"first": shared, "second": [shared, shared]})
    assert "&" not in text and "*" not in text
    assert load_yaml(text, "dumped.yaml").data == {
        "first": shared, "second": [shared, shared]}


def test_dump_writes_numbers_and_booleans_plainly() -> None:
    text = dump_yaml({"seq": 7, "ratio": 0.05, "parity": True})
    assert text == "seq: 7\nratio: 0.05\nparity: true\n"
    assert load_yaml(text, "dumped.yaml").data == {"seq": "7", "ratio": "0.05",
                                                   "parity": "true"}


def test_dump_writes_subclasses_as_their_base_type() -> None:
    class Kind(StrEnum):
        SIGNOFF = "signoff"

    data = OrderedDict([("type", Kind.SIGNOFF), ("items", ("a", "b"))])
    assert dump_yaml(data) == "type: signoff\nitems:\n- a\n- b\n"


@pytest.mark.parametrize("data", [{1: "x"}, {"a": b"bytes"}, {"a": {"x", "y"}}, object()])
def test_dump_refuses_what_it_cannot_write_faithfully(data: Any) -> None:
    with pytest.raises(TypeError):
        dump_yaml(data)
