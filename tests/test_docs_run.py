"""The examples of README.md and docs/*.md that are marked runnable, run, with their
output compared to what the page shows. A page drifts from the tool, this test fails.

How a page marks its examples (HTML comments, which GitHub does not show):

- `<!-- run -->` on the line before a ```` ```sh ```` block: the block is run by `sh`.
  The ```` ```text ```` block right after it (with only blank lines between) is what
  it prints, standard output and standard error together, in order. A runnable block
  without one must print nothing.
- `<!-- file: PATH -->` before a block writes its text to PATH (made executable when
  it starts with `#!`); `<!-- append: PATH -->` adds its text at the end of PATH. The
  PATH is taken from the shell's folder at that point.

A page's blocks run one after another in one shell, so `cd` and `export` carry over.
Pages other than README.md continue README's walkthrough (the ledger /tmp/w2 with
CBS-2026-0107 in prod), so README's blocks run first, unchecked, then the page's
SETUP, if it has one. Everything runs in a fresh temporary folder, with releasegate
of this checkout first on PATH, no RELEASEGATE_* variables, the C.UTF-8 locale and
a time limit.

Before comparing, both sides are normalised:

- `/tmp/` in a command stands for the run's temporary folder, and that folder is
  shown as `/tmp/` again in the output;
- UTC time stamps (`2026-11-28T03:07:23.390Z`) become `<TIME>`, the dates notices
  print (`28 Nov 2026 03:07`) `<DATE>`, and sha256 digests (64 hex digits) `<SHA256>`;
- trailing blanks and leading and trailing empty lines are dropped;
- a line `...` (indented or not) in the expected output stands for any number of
  lines.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
# What a page's examples need beyond README's walkthrough, as shell lines; each step is
# one a page describes in words.
SETUP = {
    # docs/ci.md, "Identity in CI": the pipeline gets its own person, committed.
    "docs/ci.md": f"""\
{shlex.quote(sys.executable)} - "$RELEASEGATE_LEDGER/releasegate.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(text.replace(
    "people:\\n", "people:\\n  ci-bot: {{name: CI pipeline, email: ci-bot@bank.example}}\\n", 1))
PY
git -C "$RELEASEGATE_LEDGER" commit -qam "people: the CI pipeline"
""",
}
TIME_LIMIT = 100  # seconds for a page, README's walkthrough included
MARK = re.compile(r"<!--\s*(run|file|append)(?::\s*(\S+))?\s*-->")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based, of the opening fence
    info: str
    text: str
    mark: str | None  # run, file or append
    path: str | None
    expected: str | None = None  # for `run`: the text block that follows


def blocks(page: str) -> list[Block]:
    """The page's fenced blocks, each with the mark on the line before it, and each
    runnable block with the text block that shows its output."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found: list[tuple[Block, int]] = []  # with the line after its closing fence
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        indent, ticks, info = fence.groups()
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        mark = MARK.fullmatch(before.strip())
        found.append((Block(start + 1, info, "\n".join(body) + "\n",
                            mark.group(1) if mark else None,
                            mark.group(2) if mark else None), i))
    result = []
    for n, (block, after) in enumerate(found):
        if block.mark == "run" and n + 1 < len(found):
            following, _ = found[n + 1]
            gap = lines[after:following.line - 1]
            if following.info == "text" and following.mark is None and \
                    not any(line.strip() for line in gap):
                block = Block(block.line, block.info, block.text, block.mark, block.path,
                              following.text)
        result.append(block)
    return result


def runnable(page: str) -> list[Block]:
    return [b for b in blocks(page) if b.mark is not None]


def script(page_blocks: list[Block], folder: Path, checked: set[int],
           setup: tuple[int, str] = (0, "")) -> str:
    """One sh script for the blocks, with `setup[1]` before block `setup[0]`; before
    each checked block a line marks where its output starts."""
    parts = ["exec 2>&1", f"cd {shlex.quote(str(folder))}"]
    for index, block in enumerate(page_blocks):
        if index == setup[0] and setup[1]:
            parts.append(setup[1])
        text = re.sub(r"(?<![\w./-])/tmp/", f"{folder}/", block.text)
        if block.mark == "run":
            if index in checked:
                parts.append(f"printf '\\n@@block {index}@@\\n'")
            parts.append(text)
        else:
            assert block.path, f"line {block.line}: {block.mark} needs a path"
            target = shlex.quote(re.sub(r"^/tmp/", f"{folder}/", block.path))
            end = "RELEASEGATE_DOCS_END"
            assert end not in text
            parts.append(f"mkdir -p \"$(dirname {target})\"\n"
                         f"cat {'>' if block.mark == 'file' else '>>'} {target} <<'{end}'\n"
                         f"{text}{end}")
            if block.mark == "file" and text.startswith("#!"):
                parts.append(f"chmod +x {target}")
    parts.append("printf '\\n@@end@@\\n'")
    return "\n".join(parts) + "\n"


def normalise(text: str, folder: Path) -> list[str]:
    for shown in {str(folder.resolve()), str(folder)}:
        text = text.replace(shown + "/", "/tmp/")
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z", "<TIME>", text)
    text = re.sub(r"\b\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}\b", "<DATE>", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "<SHA256>", text)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether `actual` is `expected` with each `...` line standing for any lines."""
    cuts = [i for i, line in enumerate(expected) if line.strip() == "..."]
    if not cuts:
        return expected == actual
    cut = cuts[0]
    head, tail = expected[:cut], expected[cut + 1:]
    if actual[:len(head)] != head:
        return False
    rest = actual[len(head):]
    return any(matches(tail, rest[start:]) for start in range(len(rest) + 1))


def run_page(page: str, folder: Path) -> dict[int, str]:
    """Run the page (after README's walkthrough); the output of each runnable block."""
    prelude = runnable("README.md") if page != "README.md" else []
    own = runnable(page)
    checked = {len(prelude) + i for i, b in enumerate(own) if b.mark == "run"}
    text = script([*prelude, *own], folder, checked, (len(prelude), SETUP.get(page, "")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               LANG="C.UTF-8", LC_ALL="C.UTF-8", TZ="UTC")
    # In its own process group, so that a command still running at the time limit is
    # stopped with the shell.
    process = subprocess.Popen(["sh", "-c", text], cwd=folder, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        stdout, _ = process.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, _ = process.communicate()
        pytest.fail(f"{page}: the examples still ran after {TIME_LIMIT} s:\n{stdout}")
    outputs: dict[int, str] = {}
    pieces = re.split(r"\n@@(block \d+|end)@@\n", "\n" + stdout)
    assert pieces[-2:] == ["end", ""], f"the page's script stopped early:\n{stdout}"
    for name, output in zip(pieces[1::2], pieces[2::2], strict=True):
        if name != "end":
            outputs[int(name.split()[1]) - len(prelude)] = output
    return outputs


@pytest.mark.parametrize("page", [p for p in PAGES if any(b.mark == "run"
                                                          for b in runnable(p))])
def test_runnable_examples_print_what_the_page_shows(page: str, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    outputs = run_page(page, folder)
    own = runnable(page)
    drifted = []
    for index, block in enumerate(own):
        if block.mark != "run":
            continue
        expected = normalise(block.expected or "", folder)
        actual = normalise(outputs[index], folder)
        if not matches(expected, actual):
            diff = "\n".join(difflib.unified_diff(expected, actual, "the page", "the run",
                                                  lineterm=""))
            drifted.append(f"{page}:{block.line}:\n{block.text}{diff}")
    assert not drifted, "\n\n".join(drifted)


def test_the_walkthrough_and_the_fixed_examples_are_marked() -> None:
    assert sum(b.mark == "run" for b in runnable("README.md")) >= 12
    ci = runnable("docs/ci.md")
    assert any("releasegate verify-artifact" in b.text for b in ci if b.mark == "run")
    assert any("releasegate notify" in b.text for b in ci if b.mark == "run")
    assert any("notify CBS-2026-0107 --dry-run" in b.text
               for b in runnable("docs/notices.md") if b.mark == "run")
    for page in PAGES:
        for block in runnable(page):
            assert block.mark != "run" or block.info == "sh", (page, block.line)


@pytest.mark.parametrize(("expected", "actual", "result"), [
    (["a", "b"], ["a", "b"], True), (["a", "..."], ["a", "b", "c"], True),
    (["a", "...", "c"], ["a", "c"], True), (["a", "...", "c"], ["a", "b", "b", "c"], True),
    (["a", "...", "c"], ["a", "b"], False), (["a"], ["a", "b"], False),
    (["...", "b", "...", "d"], ["a", "b", "c", "d"], True)])
def test_an_ellipsis_stands_for_any_lines(expected: list[str], actual: list[str],
                                          result: bool) -> None:
    assert matches(expected, actual) is result
