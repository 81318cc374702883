"""Where PyYAML was built without libyaml, YAML still loads by the same rules, and the
user is told once why it is slower and how to fix it."""

from __future__ import annotations

import json
import subprocess
import sys

# Blocks yaml._yaml (libyaml's binding) before anything imports it, as a build without it.
PROGRAM = """
import json, sys
sys.modules["yaml._yaml"] = None
from releasegate.config.strict_yaml import dump_yaml, load_yaml, load_yaml_fast
from releasegate.core.errors import InputError
doc = load_yaml(b"a: 1\\nb: [x, ~]\\nc: {d: yes}\\n", "f.yaml")
out = {"data": doc.data, "mark": doc.marks[("b", 1)], "fast": load_yaml_fast(b"k: v", "e"),
       "dump": dump_yaml({"k": ["v", None]})}
try:
    load_yaml(b"a: &x 1\\nb: *x\\n", "g.yaml")
except InputError as exc:
    out["refused"] = [exc.line, str(exc)]
print(json.dumps(out))
"""


def test_yaml_loads_by_the_same_rules_without_libyaml() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          check=True)
    out = json.loads(done.stdout)
    assert out["data"] == {"a": "1", "b": ["x", None], "c": {"d": "yes"}}
    assert out["mark"] == [2, 8]
    assert out["fast"] == {"k": "v"}
    assert out["dump"] == "k:\n- v\n- null\n"
    assert out["refused"][0] == 1 and "anchor" in out["refused"][1]
    assert done.stderr.count("warning: PyYAML was built without libyaml") == 1
    assert "reinstall PyYAML" in done.stderr
