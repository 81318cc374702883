"""The shipped JSON Schemas and the loader agree: on each document below both accept it
or both refuse it.

The schema side reads the YAML as an editor does (YAML 1.2 core schema: `7.4` is a
number, `True` a boolean, `"12"` a string) and validates with the `jsonschema` package;
the loader side is releasegate's own path (strict YAML, where every plain scalar is a
string, then config/schema.py and config/parse.py).

The wrong documents cover every rule the loader enforces: each shape rule of the three
schemas, the rules parse.py used to check on its own (a choice item needs choices, an
smtp channel needs host and from, a webhook channel needs url_env, starttls or tls),
and the spellings of numbers and booleans. What a JSON Schema cannot say (one value
compared with another, a time zone database, the spelling of a number) is in `BEYOND`,
each with its reason: there the loader alone refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import yaml

from releasegate.config.parse import parse_manifest, parse_pipeline, parse_template
from releasegate.config.schema import load_schema
from releasegate.config.strict_yaml import load_yaml
from releasegate.core.errors import InputError
from releasegate.core.model import ChecklistTemplate

# -- YAML as an editor reads it -------------------------------------------------------------


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML with the YAML 1.2 core schema's implicit types (null, bool, int, float),
    the one yaml-language-server applies; keys stay strings, as in JSON."""


Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
        ("null", r"~|null|Null|NULL|", "~nN"),
        ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
        ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
        ("float", r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN", "-+0123456789.")):
    Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(
        f"^(?:{_pattern})$"), [*_first, ""] if _tag == "null" else list(_first))


def _int12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)  # 0777 is 777 in YAML 1.2


def _float12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    return float(text.replace(".inf", "inf").replace(".nan", "nan"))


def _mapping12(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Any]:
    return {str(key.value): loader.construct_object(value, deep=True)
            for key, value in node.value}


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int12)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _float12)
Yaml12Loader.add_constructor("tag:yaml.org,2002:map", _mapping12)


def test_the_editor_reading_is_yaml_1_2() -> None:
    text = "a: 7.4\nb: True\nc: yes\nd: 0777\ne: 0x1F\nf: '12'\ng:\nh: .5\n1: x\n"
    assert yaml.load(text, Loader=Yaml12Loader) == {
        "a": 7.4, "b": True, "c": "yes", "d": 777, "e": 31, "f": "12", "g": None, "h": 0.5,
        "1": "x"}


# -- the documents --------------------------------------------------------------------------

BOB_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFMeUm+Aq0i3D3J4rAT/SJP5pUy7/A7zhbn5Qod/CASh bob"

PIPELINE = """\
version: 1
timezone: Asia/Shanghai
people:
  alice: {name: Alice Wang, email: alice@bank.example}
  bob:
    name: Bob Li
    email: bob@bank.example
    keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFMeUm+Aq0i3D3J4rAT/SJP5pUy7/A7zhbn5Qod/CASh bob]
roles:
  app-owner: [alice]
  release-manager: [bob]
rules:
  four_eyes: true
  waivers_by: [release-manager]
environments:
  - name: dev
    gate:
  - name: test
    gate:
      checklists: [intake]
      signoffs:
        - role: app-owner
  - name: prod
    gate:
      tests:
        - env: test
          suites: ["core-*"]
          min_tests: 1
          max_failures: 0
          max_skipped_ratio: 0.05
          no_missing_tests: true
          flaky: deny
      signoffs:
        - {role: release-manager, count: 1}
notices:
  languages: [zh-CN, en]
  on_promote: false
  channels:
    mail: {type: smtp, host: smtp.bank.example, port: 587, from: rg@bank.example, starttls: true}
    hook: {type: webhook, format: wecom, url_env: RG_WECOM_URL, timeout: 10}
  subscribers:
    retail:
      systems: [core-banking]
      language: zh-CN
      audience: business
      channels:
        - {channel: mail, to: [ops@bank.example]}
        - {channel: hook}
"""

MANIFEST = """\
id: CBS-2026-0107
system: core-banking
vendor: Temenos
vendor_ref: TCIB-7731
version: "7.4.2"
title: {en: Correct rounding of cross-currency fees, zh-CN: 修正跨币种转账手续费的舍入}
summary: Fees were rounded half-up.
affected_modules: [fees]
depends_on: [CBS-2026-0101]
fixes: [Wrong fee on EUR to JPY]
artifacts: [patch.tar]
"""

CHECKLIST = """\
id: intake
title: {en: Patch intake, zh-CN: 补丁接收}
roles: [release-manager]
items:
  - id: version-controlled
    type: confirm
    text: The delivered version is recorded
  - id: risk
    type: choice
    choices: [low, medium, high]
    text: {en: Initial risk}
    allow_na: false
  - id: ticket
    type: url
    required: false
    text: Ticket
"""

BASES = {"pipeline": PIPELINE, "manifest": MANIFEST, "checklist": CHECKLIST}


@dataclass(frozen=True)
class Case:
    kind: str  # pipeline, manifest or checklist
    text: str
    right: bool  # what both must say: accepted (True) or refused (False)


def edit(kind: str, old: str, new: str, *, right: bool = False) -> Case:
    """The base document of `kind` with `old` (found once) replaced by `new`."""
    base = BASES[kind]
    assert base.count(old) == 1, (kind, old)
    return Case(kind, base.replace(old, new), right)


def pipeline(old: str, new: str, *, right: bool = False) -> Case:
    return edit("pipeline", old, new, right=right)


def manifest(old: str, new: str, *, right: bool = False) -> Case:
    return edit("manifest", old, new, right=right)


def checklist(old: str, new: str, *, right: bool = False) -> Case:
    return edit("checklist", old, new, right=right)


AGREED = {
    # -- right ------------------------------------------------------------------------------
    "pipeline: the base": Case("pipeline", PIPELINE, True),
    "manifest: the base": Case("manifest", MANIFEST, True),
    "checklist: the base": Case("checklist", CHECKLIST, True),
    "manifest: version 7.4 is the text '7.4'": manifest('version: "7.4.2"', "version: 7.4",
                                                        right=True),
    "manifest: a vendor_ref of digits": manifest("vendor_ref: TCIB-7731",
                                                 "vendor_ref: 20240117", right=True),
    "manifest: a vendor named true": manifest("vendor: Temenos", "vendor: true", right=True),
    "manifest: a title of digits": manifest(
        "title: {en: Correct rounding of cross-currency fees, zh-CN: 修正跨币种转账手续费的舍入}",
        "title: 2026", right=True),
    "manifest: a module named 2026": manifest("affected_modules: [fees]",
                                              "affected_modules: [2026, 1.5]", right=True),
    "manifest: a numeric id": manifest("depends_on: [CBS-2026-0101]", "depends_on: [42]",
                                       right=True),
    "checklist: numeric item ids": checklist("  - id: version-controlled", "  - id: 1",
                                             right=True),
    "checklist: required: False": checklist("required: false", "required: False",
                                            right=True),
    "checklist: allow_na: TRUE": checklist("allow_na: false", "allow_na: TRUE", right=True),
    "checklist: choices of numbers": checklist("choices: [low, medium, high]",
                                               "choices: [1, 2, 3]", right=True),
    "pipeline: four_eyes: True": pipeline("four_eyes: true", "four_eyes: True", right=True),
    "pipeline: version 1.0": pipeline("version: 1\n", "version: 1.0\n", right=True),
    "pipeline: max_skipped_ratio .05": pipeline("max_skipped_ratio: 0.05",
                                                "max_skipped_ratio: .05", right=True),
    "pipeline: max_skipped_ratio 5e-2": pipeline("max_skipped_ratio: 0.05",
                                                 "max_skipped_ratio: 5e-2", right=True),
    "pipeline: count 2.0": pipeline("count: 1}", "count: 2.0}", right=True),
    "pipeline: max_failures 0x0": pipeline("max_failures: 0", "max_failures: 0x0",
                                           right=True),
    "pipeline: min_tests +1": pipeline("min_tests: 1", "min_tests: +1", right=True),
    "pipeline: timeout 1e1": pipeline("timeout: 10", "timeout: 1e1", right=True),
    "pipeline: no_missing_tests as a count": pipeline("no_missing_tests: true",
                                                      "no_missing_tests: 3", right=True),
    "pipeline: a person named by digits": pipeline("name: Bob Li", "name: 2026", right=True),
    "pipeline: a host given as a number": pipeline("host: smtp.bank.example", "host: 10",
                                                   right=True),
    "pipeline: a suite glob of digits": pipeline('suites: ["core-*"]', "suites: [2026]",
                                                 right=True),
    "pipeline: an empty gate": pipeline(
        "    gate:\n      checklists: [intake]\n      signoffs:\n        - role: app-owner\n",
        "    gate: {}\n", right=True),
    # -- wrong: pipeline shapes --------------------------------------------------------------
    "pipeline: no version": pipeline("version: 1\n", ""),
    "pipeline: version 2": pipeline("version: 1\n", "version: 2\n"),
    "pipeline: version 0777": pipeline("version: 1\n", "version: 0777\n"),
    "pipeline: version 1_000": pipeline("version: 1\n", "version: 1_000\n"),
    "pipeline: an unknown top-level key": pipeline("rules:\n", "rulez:\n"),
    "pipeline: no environments": pipeline(
        "environments:\n", "environments: []\nenvs:\n"),
    "pipeline: an environment name with a space": pipeline("- name: dev", "- name: dev box"),
    "pipeline: an environment id with '..'": pipeline("- name: dev", "- name: dev..1"),
    "pipeline: an environment without a gate": pipeline("  - name: dev\n    gate:\n",
                                                        "  - name: dev\n"),
    "pipeline: an unknown condition": pipeline("    gate:\n  - name: test",
                                               "    gate: {soak: 72h}\n  - name: test"),
    "pipeline: a person without a name": pipeline("name: Alice Wang, ", ""),
    "pipeline: a person's e-mail without @": pipeline("alice@bank.example",
                                                      "alice.bank.example"),
    "pipeline: a key that is not ssh": pipeline(BOB_KEY, "pgp-bob"),
    "pipeline: a person's e-mail given as a number": pipeline("alice@bank.example", "42"),
    "pipeline: a role listed twice": pipeline("app-owner: [alice]", "app-owner: [alice, alice]"),
    "pipeline: four_eyes: yes": pipeline("four_eyes: true", "four_eyes: yes"),
    "pipeline: a rule that does not exist": pipeline("four_eyes: true", "five_eyes: true"),
    "pipeline: waivers_by a role given twice": pipeline(
        "waivers_by: [release-manager]", "waivers_by: [release-manager, release-manager]"),
    "pipeline: tests without suites": pipeline('suites: ["core-*"]', "suites: []"),
    "pipeline: tests without env": pipeline("        - env: test\n          suites",
                                            "        - suites"),
    "pipeline: min_tests -1": pipeline("min_tests: 1", "min_tests: -1"),
    "pipeline: min_tests 1.5": pipeline("min_tests: 1", "min_tests: 1.5"),
    "pipeline: max_failures many": pipeline("max_failures: 0", "max_failures: many"),
    "pipeline: max_skipped_ratio 1.5": pipeline("max_skipped_ratio: 0.05",
                                                "max_skipped_ratio: 1.5"),
    "pipeline: max_skipped_ratio 5%": pipeline("max_skipped_ratio: 0.05",
                                               "max_skipped_ratio: 5%"),
    "pipeline: max_skipped_ratio .inf": pipeline("max_skipped_ratio: 0.05",
                                                 "max_skipped_ratio: .inf"),
    "pipeline: no_missing_tests -1": pipeline("no_missing_tests: true", "no_missing_tests: -1"),
    "pipeline: flaky: sometimes": pipeline("flaky: deny", "flaky: sometimes"),
    "pipeline: signoff count 0": pipeline("count: 1}", "count: 0}"),
    "pipeline: a signoff without a role": pipeline("{role: release-manager, count: 1}",
                                                   "{count: 1}"),
    "pipeline: a checklist listed twice in a gate": pipeline("checklists: [intake]",
                                                             "checklists: [intake, intake]"),
    "pipeline: a notice language that is not offered": pipeline("languages: [zh-CN, en]",
                                                                "languages: [fr]"),
    "pipeline: on_promote: on": pipeline("on_promote: false", "on_promote: on"),
    "pipeline: a channel of type ftp": pipeline("type: webhook", "type: ftp"),
    "pipeline: a webhook format not known": pipeline("format: wecom", "format: telegram"),
    "pipeline: port 70000": pipeline("port: 587", "port: 70000"),
    "pipeline: timeout 0": pipeline("timeout: 10", "timeout: 0"),
    "pipeline: timeout 301": pipeline("timeout: 10", "timeout: 301"),
    "pipeline: a variable name with a dash": pipeline("url_env: RG_WECOM_URL",
                                                      "url_env: RG-WECOM-URL"),
    "pipeline: from is not an address": pipeline("from: rg@bank.example", "from: releasegate"),
    "pipeline: an unknown channel key": pipeline("timeout: 10}", "timeout: 10, retries: 3}"),
    "pipeline: an smtp channel without host": pipeline("host: smtp.bank.example, ", ""),
    "pipeline: an smtp channel without from": pipeline("from: rg@bank.example, ", ""),
    "pipeline: a webhook channel without url_env": pipeline("url_env: RG_WECOM_URL, ", ""),
    "pipeline: starttls and tls both": pipeline("starttls: true}", "starttls: true, tls: true}"),
    "pipeline: a subscriber without systems": pipeline("      systems: [core-banking]\n", ""),
    "pipeline: a subscriber audience not known": pipeline("audience: business",
                                                          "audience: managers"),
    "pipeline: a subscriber language not offered": pipeline("language: zh-CN",
                                                            "language: fr"),
    "pipeline: a delivery to no address": pipeline("to: [ops@bank.example]",
                                                   "to: [ops.bank.example]"),
    "pipeline: a delivery with an empty to": pipeline("to: [ops@bank.example]", "to: []"),
    # -- wrong: manifest shapes --------------------------------------------------------------
    "manifest: no title": manifest(
        "title: {en: Correct rounding of cross-currency fees, zh-CN: 修正跨币种转账手续费的舍入}\n",
        ""),
    "manifest: no vendor": manifest("vendor: Temenos\n", ""),
    "manifest: an empty vendor": manifest("vendor: Temenos", 'vendor: ""'),
    "manifest: an id with a space": manifest("id: CBS-2026-0107", "id: CBS 2026"),
    "manifest: an id with '..'": manifest("id: CBS-2026-0107", "id: CBS..0107"),
    "manifest: an id too long": manifest("id: CBS-2026-0107", "id: " + "C" * 65),
    "manifest: a negative numeric id": manifest("depends_on: [CBS-2026-0101]",
                                                "depends_on: [-42]"),
    "manifest: a version left empty": manifest('version: "7.4.2"', "version:"),
    "manifest: an unknown key": manifest("summary:", "colour: red\nsummary:"),
    "manifest: a title in no language": manifest(
        "title: {en: Correct rounding of cross-currency fees, zh-CN: 修正跨币种转账手续费的舍入}",
        "title: {}"),
    "manifest: a title in a language code not written so": manifest(
        "{en: Correct rounding of cross-currency fees,", "{EN: Correct rounding,"),
    "manifest: a summary that is a list": manifest("summary: Fees were rounded half-up.",
                                                   "summary: [Fees]"),
    "manifest: depends_on twice the same": manifest("depends_on: [CBS-2026-0101]",
                                                    "depends_on: [CBS-1, CBS-1]"),
    "manifest: an empty artifact name": manifest("artifacts: [patch.tar]", 'artifacts: [""]'),
    "manifest: fixes not a list": manifest("fixes: [Wrong fee on EUR to JPY]",
                                           "fixes: Wrong fee"),
    # -- wrong: checklist shapes -------------------------------------------------------------
    "checklist: a choice item without choices": checklist(
        "    choices: [low, medium, high]\n", ""),
    "checklist: a choice item with no choices": checklist("choices: [low, medium, high]",
                                                          "choices: []"),
    "checklist: an empty choice": checklist("choices: [low, medium, high]",
                                            'choices: [low, ""]'),
    "checklist: an item type not known": checklist("type: confirm", "type: checkbox"),
    "checklist: no items": checklist(CHECKLIST[CHECKLIST.index("items:"):], "items: []\n"),
    "checklist: no roles": checklist("roles: [release-manager]", "roles: []"),
    "checklist: no title": checklist("title: {en: Patch intake, zh-CN: 补丁接收}\n", ""),
    "checklist: an item without text": checklist("    text: Ticket\n", ""),
    "checklist: required: yes": checklist("required: false", "required: yes"),
    "checklist: an unknown item key": checklist("allow_na: false", "allow_na: false\n    hint: x"),
    "checklist: an item id with a slash": checklist("id: ticket", "id: ti/cket"),
}

# Rules a JSON Schema cannot state: the loader alone refuses (or, for a spelling the
# loader cannot see, alone accepts). (document, schema accepts, loader accepts, why)
BEYOND: dict[str, tuple[Case, bool, bool, str]] = {
    "pipeline: an unknown time zone": (
        pipeline("Asia/Shanghai", "Asia/Shangai"), True, False,
        "time zones come from the system's tz database"),
    "pipeline: an environment listed twice": (
        pipeline("- name: test", "- name: dev"), True, False, "unique by a member"),
    "pipeline: a role member who is not a person": (
        pipeline("app-owner: [alice]", "app-owner: [carol]"), True, False, "a reference"),
    "pipeline: two people with one e-mail": (
        pipeline("bob@bank.example", "Alice@bank.example"), True, False,
        "unique by a member, ignoring case"),
    "pipeline: a gate naming an unknown checklist": (
        pipeline("checklists: [intake]", "checklists: [intak]"), True, False,
        "a reference to another file"),
    "pipeline: tests from a later environment": (
        pipeline("- env: test", "- env: prod"), True, False, "a reference, in order"),
    "pipeline: a signoff by an unknown role": (
        pipeline("- role: app-owner", "- role: app-ownr"), True, False, "a reference"),
    "pipeline: waivers by an unknown role": (
        pipeline("waivers_by: [release-manager]", "waivers_by: [auditor]"), True, False,
        "a reference"),
    "pipeline: a subscriber language notices.languages leaves out": (
        pipeline("languages: [zh-CN, en]", "languages: [en]"), True, False, "a reference"),
    "pipeline: a delivery through an unknown channel": (
        pipeline("{channel: hook}", "{channel: hooks}"), True, False, "a reference"),
    "pipeline: an e-mail delivery without to": (
        pipeline("{channel: mail, to: [ops@bank.example]}", "{channel: mail}"), True, False,
        "depends on the type of the channel it names"),
    "pipeline: a webhook delivery with to": (
        pipeline("{channel: hook}", "{channel: hook, to: [ops@bank.example]}"), True, False,
        "depends on the type of the channel it names"),
    "pipeline: a template role releasegate.yaml does not define": (
        pipeline("release-manager: [bob]", "release-mgr: [bob]\n  release-manager-2: [bob]"),
        True, False, "a reference from a checklist template"),
    "manifest: a patch that depends on itself": (
        manifest("depends_on: [CBS-2026-0101]", "depends_on: [cbs-2026-0107]"), True, False,
        "one value compared with another, ignoring case"),
    "checklist: two items with one id": (
        checklist("id: ticket", "id: risk"), True, False, "unique by a member"),
    "pipeline: count 02 (octal in YAML 1.1)": (
        pipeline("count: 1}", "count: 02}"), True, False,
        "a leading zero: the schema sees the number 2, not how it was written"),
    "pipeline: a quoted port": (
        pipeline("port: 587", 'port: "587"'), False, True,
        "the strict reader keeps no quotes: it reads '587' as it reads 587"),
    "checklist: a quoted boolean": (
        checklist("required: false", 'required: "false"'), False, True,
        "the strict reader keeps no quotes"),
}

# Templates the pipeline documents are loaded with: intake, held by release-manager.
TEMPLATES_TEXT = CHECKLIST


def templates() -> dict[str, ChecklistTemplate]:
    template = parse_template(load_yaml(TEMPLATES_TEXT, "checklists/intake.yaml"))
    return {template.id: template}


LOADERS: dict[str, Callable[[Any], object]] = {
    "pipeline": lambda doc: parse_pipeline(doc, templates()),
    "manifest": parse_manifest,
    "checklist": parse_template,
}
SOURCES = {"pipeline": "releasegate.yaml", "manifest": "patch.yaml",
           "checklist": "checklists/intake.yaml"}


def schema_accepts(case: Case) -> bool:
    data = yaml.load(case.text, Loader=Yaml12Loader)
    return bool(jsonschema.Draft202012Validator(load_schema(case.kind)).is_valid(data))


def loader_accepts(case: Case) -> tuple[bool, str]:
    try:
        LOADERS[case.kind](load_yaml(case.text, SOURCES[case.kind]))
    except InputError as error:
        return False, error.message
    return True, ""


def verdicts(case: Case) -> tuple[bool, bool, str]:
    loader, why = loader_accepts(case)
    return schema_accepts(case), loader, why


def test_the_set_is_big_enough() -> None:
    wrong = [name for name, case in AGREED.items() if not case.right]
    assert len(wrong) >= 24 and len(AGREED) - len(wrong) >= 3
    assert {case.kind for case in AGREED.values()} == set(BASES)


def test_schema_and_loader_agree_on_every_document() -> None:
    disagreements = []
    for name, case in AGREED.items():
        schema, loader, why = verdicts(case)
        if schema != loader or schema != case.right:
            disagreements.append(f"{name}: schema {'accepts' if schema else 'refuses'}, "
                                 f"loader {'accepts' if loader else 'refuses: ' + why}")
    assert disagreements == []


@pytest.mark.parametrize("name", sorted(BEYOND))
def test_what_a_schema_cannot_state_is_the_loader_s_alone(name: str) -> None:
    case, schema, loader, _ = BEYOND[name]
    assert verdicts(case)[:2] == (schema, loader)


def test_the_loader_reads_the_number_an_editor_reads() -> None:
    text = PIPELINE.replace("count: 1}", "count: 2.0}").replace(
        "max_skipped_ratio: 0.05", "max_skipped_ratio: .05").replace(
        "four_eyes: true", "four_eyes: False").replace("max_failures: 0", "max_failures: 0x10")
    loaded = parse_pipeline(load_yaml(text, "releasegate.yaml"), templates())
    prod = loaded.environments[2].gate
    assert (prod.signoffs[0].count, prod.tests[0].max_skipped_ratio,
            prod.tests[0].max_failures, loaded.rules.four_eyes) == (2, 0.05, 16, False)
    assert isinstance(prod.signoffs[0].count, int)
    manifest_text = MANIFEST.replace('version: "7.4.2"', "version: 7.40")
    assert parse_manifest(load_yaml(manifest_text, "patch.yaml")).version == "7.40"
