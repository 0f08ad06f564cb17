"""The docs say only what is true of the code: every `mathlens …` command in README.md and
docs/**/*.md names a real verb and only its real options, every `make X` names a Makefile
target, every relative link and every repository path in backticks points at a file that exists.
Fast and offline: the CLI is read through click, nothing runs."""

from __future__ import annotations

import bisect
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from mathlens.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^\s*(```+|~~~+)")
INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
MAKE = re.compile(r"(?:^|[\s(=;:])make ([A-Za-z][\w-]*)")
REPO_PATH = re.compile(r"^(?:src|tests|configs|benchmarks|docs)/[\w./-]+$")
SHELL_STOP = {"|", "||", "&", "&&", ";", ">", ">>", "<", "2>", "2>&1"}


@dataclass(frozen=True)
class Snippet:
    """One piece of a page: where it is, and its text (a code line or an inline code span)."""

    page: Path
    line: int
    text: str
    in_block: bool

    def where(self) -> str:
        return f"{shown(self.page)}:{self.line}"


def shown(page: Path) -> str:
    """A page's name as a failure shows it: relative to the checkout when it is in it."""
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


def snippets(page: Path) -> list[Snippet]:
    """Code-block lines (backslash continuations joined) and inline code spans of a page; a span
    may run over a line break inside its paragraph, as Markdown allows."""
    out: list[Snippet] = []
    prose: list[tuple[int, str]] = []  # the lines outside code blocks, blocks left as blank lines
    in_block = False
    pending: tuple[int, str] | None = None
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if FENCE.match(line):
            in_block = not in_block
            pending = None
            prose.append((number, ""))
            continue
        if not in_block:
            prose.append((number, line))
            continue
        prose.append((number, ""))
        start, text = pending if pending is not None else (number, "")
        text = f"{text} {line.strip()}".strip()
        if text.endswith("\\"):
            pending = (start, text[:-1].rstrip())
            continue
        pending = None
        out.append(Snippet(page, start, text, True))
    text = "\n".join(line for _, line in prose)
    starts = [0]
    for _, line in prose:
        starts.append(starts[-1] + len(line) + 1)
    for m in INLINE.finditer(text):
        if "\n\n" in m.group(1):
            continue  # a stray backtick: the span would cross a paragraph
        index = bisect.bisect_right(starts, m.start()) - 1
        out.append(Snippet(page, prose[index][0], " ".join(m.group(1).split()), False))
    return sorted(out, key=lambda s: s.line)


def command_of(text: str) -> str | None:
    """The `mathlens …` command a snippet holds, without a `$ ` prompt or a trailing comment."""
    text = text.strip()
    if text.startswith("$ "):
        text = text[2:].lstrip()
    if not text.startswith("mathlens "):
        return None
    return re.sub(r"\s+#.*$", "", text)


def commands(pages=PAGES) -> list[tuple[str, str]]:
    """(file:line, command) for every `mathlens …` line of the pages."""
    found = []
    for page in pages:
        for s in snippets(page):
            cmd = command_of(s.text)
            if cmd is not None:
                found.append((s.where(), cmd))
    return found


def _tokens(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote in prose: plain words will do
        words = command.split()
    kept = []
    for word in words:
        if word in SHELL_STOP:
            break
        kept.append(word.strip("[]"))
    return [w for w in kept if w]


def _option_names(command) -> set[str]:
    names = {"--help"}
    for param in command.params:  # typer vendors its own click: no isinstance checks
        names.update(getattr(param, "opts", []) or [])
        names.update(getattr(param, "secondary_opts", []) or [])
    return {n for n in names if n.startswith("-")}


def check_command(command: str, root=None) -> list[str]:
    """What is wrong with one `mathlens …` command line: an unknown verb or unknown options."""
    root = root or typer.main.get_command(app)
    words = _tokens(command)[1:]
    node, path = root, ["mathlens"]
    while getattr(node, "commands", None) is not None:
        if not words or words[0].startswith("-"):
            return [f"`{' '.join(path)}` needs a sub-verb ({', '.join(sorted(node.commands))})"]
        verb = words.pop(0)
        if re.fullmatch(r"[A-Z][A-Z_]*|…|\.\.\.", verb):
            return []  # a placeholder (`mathlens VERB --help`): nothing to check
        if verb not in node.commands:
            return [f"`{' '.join(path)} {verb}`: no such verb (verbs: {', '.join(sorted(node.commands))})"]
        node, path = node.commands[verb], [*path, verb]
    known = _option_names(node)
    problems = []
    for word in words:
        if not word.startswith("-") or re.fullmatch(r"-\d[\d.,e-]*", word) or word in ("-", "--", "…"):
            continue
        flag = word.split("=", 1)[0]
        if flag not in known:
            problems.append(f"`{' '.join(path)}` has no option {flag}")
    return problems


def check_page_commands(page: Path) -> list[str]:
    """Every problem of every `mathlens …` command in one page, each with file:line."""
    root = typer.main.get_command(app)
    return [f"{where}: {cmd!r}: {p}" for where, cmd in commands([page]) for p in check_command(cmd, root)]


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE))


def make_mentions(pages=PAGES) -> list[tuple[str, str]]:
    """(file:line, target) for every `make X` inside code (blocks or inline spans)."""
    return [(s.where(), m.group(1)) for page in pages for s in snippets(page) for m in MAKE.finditer(s.text)]


def links(pages=PAGES) -> list[tuple[str, Path]]:
    """(file:line, path) for every relative link `](path)` of the pages, anchors dropped."""
    return [(where, path) for where, path, _ in anchored_links(pages)]


def anchored_links(pages=PAGES) -> list[tuple[str, Path, str]]:
    """(file:line, path, anchor or "") for every relative link of the pages."""
    found = []
    for page in pages:
        for number, line in enumerate(page.read_text().splitlines(), 1):
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue  # http:, mailto:, an anchor in the same page
                path, _, anchor = target.partition("#")
                found.append((f"{shown(page)}:{number}", (page.parent / path).resolve(), anchor))
    return found


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to '-'."""
    anchors = set()
    for line in page.read_text().splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).lower().replace("`", ""))
            anchors.add(text.replace(" ", "-"))
    return anchors


def repo_paths(pages=PAGES) -> list[tuple[str, str]]:
    """(file:line, path) for every inline code span that is a repository path (`src/…`, `tests/…`)."""
    found = []
    for page in pages:
        for s in snippets(page):
            if not s.in_block and REPO_PATH.match(s.text) and "*" not in s.text:
                found.append((s.where(), s.text))
    return found


# ---------------------------------------------------------------- the checks, one case each


@pytest.mark.parametrize(("where", "command"), commands(), ids=[w for w, _ in commands()])
def test_doc_command_uses_real_verb_and_options(where, command):
    problems = check_command(command)
    assert not problems, f"{where}: {command}\n" + "\n".join(problems)


@pytest.mark.parametrize(("where", "target"), make_mentions(), ids=[f"{w}:{t}" for w, t in make_mentions()])
def test_make_target_exists(where, target):
    assert target in make_targets(), f"{where}: `make {target}` is not a Makefile target"


@pytest.mark.parametrize(("where", "path"), links(), ids=[w for w, _ in links()])
def test_relative_link_points_at_a_file(where, path):
    assert path.exists(), f"{where}: link to {path} which does not exist"


ANCHORED = [(w, p, a) for w, p, a in anchored_links() if a and p.suffix == ".md"]


@pytest.mark.parametrize(("where", "path", "anchor"), ANCHORED, ids=[f"{w}#{a}" for w, _, a in ANCHORED])
def test_link_anchor_names_a_heading(where, path, anchor):
    assert path.exists() and anchor in heading_anchors(path), f"{where}: no heading #{anchor} in {path.name}"


@pytest.mark.parametrize(("where", "path"), repo_paths(), ids=[f"{w}:{p}" for w, p in repo_paths()])
def test_cited_repository_path_exists(where, path):
    assert (ROOT / path.rstrip("/")).exists(), f"{where}: `{path}` does not exist"


def test_the_pages_hold_commands_links_and_make_targets():
    assert len(commands()) > 40 and len(links()) > 30 and make_mentions()
    assert any(page.name == "README.md" for page in PAGES) and len(PAGES) > 10


def test_the_checker_fails_on_a_bogus_flag_a_bogus_verb_and_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Run this:\n\n```\n"
        "mathlens lso --task addition --center 50,50 --radius 10 --out runs/x\n"
        "$ mathlens lso --task addition --no-such-flag 3 --out runs/x   # a comment --also-not-checked\n"
        "mathlens eval --backend tiny \\\n    --bogus-continued 1 --out runs/e\n"
        "mathlens corpus frobnicate --out x\n"
        "mathlens rm --out x\n"
        "```\n\nInline: `mathlens serve --port 8000 --not-an-option`.\n"
    )
    problems = check_page_commands(page)
    assert len(problems) == 5, problems
    assert "page.md:5" in problems[0] and "--no-such-flag" in problems[0]
    assert "page.md:6" in problems[1] and "--bogus-continued" in problems[1]
    assert "no such verb" in problems[2] and "needs a sub-verb" in problems[3]
    assert "page.md:12" in problems[4] and "--not-an-option" in problems[4]
    assert not any("--also-not-checked" in p for p in problems)

    linked = tmp_path / "links.md"
    linked.write_text("[ok](page.md) [gone](missing.md#part) [web](https://example.org) [here](#top)\n")
    found = links([linked])
    assert [p.name for _, p in found] == ["page.md", "missing.md"]
    assert [p.exists() for _, p in found] == [True, False]
    page.write_text(page.read_text() + "\n## Speed: no overhead, on `serve`\n")
    assert "speed-no-overhead-on-serve" in heading_anchors(page)

    made = tmp_path / "make.md"
    made.write_text("```\nmake demo\nmake no-such-target\n```\n")
    assert [t for _, t in make_mentions([made]) if t not in make_targets()] == ["no-such-target"]


def test_a_real_doc_line_with_one_flag_changed_is_flagged(tmp_path):
    """A line copied from the docs passes; the same line with a misspelt flag does not."""
    where, line = next((w, c) for w, c in commands() if c.startswith("mathlens lso ") and "--radius" in c)
    assert check_command(line) == [], where
    page = tmp_path / "copy.md"
    page.write_text(f"```\n{line.replace('--radius', '--radios')}\n```\n")
    assert [p for p in check_page_commands(page) if "--radios" in p]
