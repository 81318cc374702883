"""Validate loaded YAML against the JSON Schemas shipped in releasegate/schemas.

The strict YAML loader keeps every plain scalar a string, so values are first
coerced to the number or boolean the schema asks for; then the schema decides.
The first error is reported at its spot: file, line, key path, what was expected,
and a "did you mean" for near misses.

Editors validate against the same schemas after reading the YAML themselves, by the
YAML 1.2 core schema. So that both come to the same verdict, a scalar is coerced as
YAML 1.2 reads it (`True`, `0x1F`, `.05` and `1.0` are what an editor sees too), except
that an integer with a leading zero stays text and is refused (YAML 1.1 tools read
`010` as 8); and where releasegate keeps text (ids, names, versions), the schema
accepts a number or true/false as well, since `version: 7.4` is a number to an editor.
tests/test_schema_agreement.py holds both to it.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from importlib import resources
from typing import Any

from releasegate.config.strict_yaml import Document, Path_
from releasegate.core.errors import ConfigError, InputError, did_you_mean

SCHEMAS = ("pipeline", "manifest", "checklist")
# Scalars as the YAML 1.2 core schema reads them (not .inf and .nan: JSON has neither).
_BOOLEANS = {"true": True, "True": True, "TRUE": True,
             "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_BASED_INT = re.compile(r"0o([0-7]+)|0x([0-9a-fA-F]+)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")

# Condition kinds that docs/architecture.md lists as not yet evaluated: naming one must
# stop the load rather than pass silently.
UNIMPLEMENTED_CONDITIONS = ("soak", "windows", "parity", "emergency")


def schema_text(name: str) -> str:
    """The JSON Schema `name` (pipeline, manifest or checklist) as shipped."""
    folder = resources.files("releasegate.config.schemas")
    return (folder / f"{name}.schema.json").read_text("utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(schema_text(name))
    return result


def validate(doc: Document, name: str, *, error_cls: type[InputError] = ConfigError) -> Any:
    """Coerce and validate `doc` against schema `name`; return the data or raise."""
    schema = load_schema(name)
    if doc.data is None:
        raise error_cls(f"{doc.source} is empty; expected a mapping", file=doc.source,
                        hint=f"see `releasegate schema {name}` for its keys")
    data = _coerce(schema, schema, doc.data)
    import jsonschema  # imported here: only a changed file pays for it

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=_error_order)
    if errors:
        raise _explain(doc, schema, errors[0], error_cls)
    return data


def _error_order(error: Any) -> tuple[int, ...]:
    return (len(error.absolute_path) * -1, )


def _resolve(root: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        target = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _types(root: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    found = set()
    declared = schema.get("type")
    if isinstance(declared, str):
        found.add(declared)
    elif isinstance(declared, list):
        found.update(declared)
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= _types(root, _resolve(root, branch))
    return found


def _coerce(root: dict[str, Any], schema: dict[str, Any], value: Any) -> Any:
    schema = _resolve(root, schema)
    if isinstance(value, dict):
        return {k: _coerce(root, _member_schema(root, schema, k), v) for k, v in value.items()}
    if isinstance(value, list):
        items = schema.get("items", {})
        return [_coerce(root, items, v) for v in value]
    if isinstance(value, str):
        return _coerce_scalar(_types(root, schema), value)
    return value


def _member_schema(root: dict[str, Any], schema: dict[str, Any], key: str) -> dict[str, Any]:
    for branch in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
        branch = _resolve(root, branch)
        if key in branch.get("properties", {}):
            sub: dict[str, Any] = branch["properties"][key]
            return sub
        extra = branch.get("additionalProperties")
        if isinstance(extra, dict):
            return extra
    return {}


def _coerce_scalar(types: set[str], value: str) -> Any:
    if "string" in types or not types:
        return value
    if "boolean" in types and value in _BOOLEANS:
        return _BOOLEANS[value]
    number = yaml_number(value)
    if number is None:
        return value
    if "integer" in types and (isinstance(number, int) or number.is_integer()):
        return int(number)
    if "number" in types:
        return number
    return value


def yaml_number(text: str) -> int | float | None:
    """The number YAML 1.2 reads in `text` (`12`, `+3`, `0x1F`, `0o17`, `.05`, `1e3`),
    or None: not a number, not finite, or an integer with a leading zero."""
    based = _BASED_INT.fullmatch(text)
    try:
        if based:
            return int(based.group(1), 8) if based.group(1) else int(based.group(2), 16)
        if _INT.fullmatch(text):
            return int(text)
    except ValueError:  # more digits than Python converts
        return None
    if _LEADING_ZERO.fullmatch(text) or not _FLOAT.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _explain(doc: Document, root: dict[str, Any], error: Any,
             error_cls: type[InputError]) -> InputError:
    path: Path_ = tuple(error.absolute_path)
    validator = error.validator
    hint = None
    written = _written(doc.data, path, error.instance)
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(custom, str):
        # The schema's own words, which editors (yaml-language-server) show too.
        message = custom
    elif validator == "additionalProperties":
        allowed = sorted(_resolve(root, error.schema).get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        key = unknown[0]
        path = (*path, key)
        if key in UNIMPLEMENTED_CONDITIONS and "checklists" in allowed:
            message = (f"condition kind '{key}' is not supported by this version of "
                       "releasegate; a gate may use: " + ", ".join(allowed))
            hint = f"remove '{key}' so the gate does not look stricter than it is"
        else:
            message = f"unknown key '{key}'; expected one of: {', '.join(allowed)}"
            hint = did_you_mean(key, allowed)
    elif validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        message = f"missing required key '{missing}'"
    elif validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        message = f"expected one of {choices}; got {error.instance!r}"
        hint = did_you_mean(str(error.instance), map(str, error.validator_value))
    elif validator == "type":
        described = _resolve(root, error.schema).get("description")
        # Of several types the first is the one meant; the others are how an editor
        # reads text that looks like a number or a boolean.
        declared = error.validator_value
        first = str(declared[0] if isinstance(declared, list) else declared)
        wanted = _TYPE_WORDS.get(first, f"a {first}")
        message = f"expected {wanted}" + (f" ({described})" if described else "")
        message += f"; got {_show(written)}"
        if first == "boolean":
            hint = "write true or false (yes/no/on/off are not booleans here)"
    elif validator == "const":
        described = _resolve(root, error.schema).get("description")
        message = (f"expected {error.validator_value!r}" + (f" ({described})" if described
                                                             else "")
                   + f"; got {_show(written)}")
    elif validator in ("oneOf", "pattern", "not"):
        described = _resolve(root, error.schema).get("description")
        wanted = described or _expected(error)
        message = f"expected {wanted}; got {_show(written)}"
    elif validator == "propertyNames":
        message = f"invalid name {_show(error.instance)}: {error.message}"
    else:
        message = error.message
    return doc.error(path, message, hint=hint, cls=error_cls)


_TYPE_WORDS = {"integer": "an integer", "number": "a number", "boolean": "true or false",
               "string": "a string", "array": "a list", "object": "a mapping"}


def _expected(error: Any) -> str:
    if error.validator == "type":
        return f"a {error.validator_value}"
    if error.validator == "const":
        return repr(error.validator_value)
    return str(error.message)


def _written(data: Any, path: Path_, instance: Any) -> Any:
    """The value at `path` as the file spells it (`0777`, not the 777 it was read as)."""
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return instance
    return data if isinstance(data, str) and not isinstance(instance, str) else instance


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)
