"""docs/architecture.md stays true while the code moves.

The page names files, functions, tasks and floors; this checks each against the tree:

- every backticked path (`apps/…`, `tests/…`, `sdk/…`, `config/…`, …) exists; a placeholder such
  as `apps/<app>/tasks.py` or `NNNN_<what>.sql` needs only the folder before it;
- every backticked call, `name()` or `Class.method()`, is defined in a Python file the same list
  item or paragraph names (anywhere in the sources when it names none);
- every backticked class or constant (`CallRow`, `UPWARD`) is defined somewhere in the sources;
- every backticked task name (`policies.publish_config`) is a registered task's name;
- the floor diagram lists every app at the floor its AppConfig declares.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from django.apps import apps as registry

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
TOP = ("apps", "bench", "config", "deploy", "docs", "sdk", "static", "templates", "tests", "tools")
SOURCES = ("apps", "config", "sdk/src", "tests")
PLACEHOLDER = re.compile(r"<|NNNN|\*")
CALL = re.compile(r"^(_?[A-Za-z]\w*(?:\.[A-Za-z_]\w*)?)\(\)$")
CONSTANT = re.compile(r"^_?(?:[A-Z][a-z0-9]+[A-Z]\w*|[A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{3,})$")
FILE = re.compile(r"^[\w.-]+\.(?:py|sql|md)$")


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items (with their continuation lines), fenced code left out."""
    blocks: list[list[str]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            blocks.append([])
            continue
        if fenced:
            continue
        if not line.strip() or re.match(r"\s*(?:[-*]|\d+\.)\s|#", line) or not blocks:
            blocks.append([])
        blocks[-1].append(line)
    return [" ".join(lines) for lines in blocks if lines]


BLOCKS = _blocks(DOC.read_text())


def _tokens(block: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", block)


def _is_path(token: str) -> bool:
    return "/" in token and " " not in token and token.split("/")[0] in TOP


def _existing_part(token: str) -> Path:
    """The path itself, or for a placeholder the folder before its first placeholder segment."""
    parts = token.rstrip("/").split("/")
    for i, part in enumerate(parts):
        if PLACEHOLDER.search(part):
            return ROOT.joinpath(*parts[:i])
    return ROOT / token


@cache
def _python_files() -> tuple[Path, ...]:
    return tuple(path for top in SOURCES for path in sorted((ROOT / top).rglob("*.py")))


@cache
def _defined(path: Path) -> frozenset[str]:
    """Names a module defines: functions, classes and assignments at any depth, and Class.method."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names.update(
                    f"{node.name}.{item.name}"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                )
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


def _python_named_in(block: str) -> list[Path]:
    found: list[Path] = []
    for token in _tokens(block):
        if _is_path(token) and not PLACEHOLDER.search(token):
            path = ROOT / token
            if path.is_file() and path.suffix == ".py":
                found.append(path)
            elif path.is_dir():
                found.extend(sorted(path.rglob("*.py")))
    return found


@cache
def _task_names() -> frozenset[str]:
    text = "\n".join(path.read_text() for path in (ROOT / "apps").glob("*/tasks.py"))
    return frozenset(re.findall(r'name="([a-z_]+\.[a-z_]+)"', text))


def _labels() -> dict[str, int | None]:
    return {
        config.name.split(".")[1]: getattr(config, "floor", None)
        for config in registry.get_app_configs()
        if config.name.startswith("apps.")
    }


def test_the_page_exists_and_is_one_page() -> None:
    lines = len(DOC.read_text().splitlines())
    assert 100 <= lines <= 300, f"docs/architecture.md is {lines} lines: one page a newcomer reads first"


def test_every_path_on_the_page_exists() -> None:
    missing = sorted(
        token
        for block in BLOCKS
        for token in _tokens(block)
        if _is_path(token) and not _existing_part(token).exists()
    )
    bare = sorted(
        token
        for block in BLOCKS
        for token in _tokens(block)
        if FILE.match(token) and not any(ROOT.joinpath(top).rglob(token) for top in ("apps", "config", "sdk"))
    )
    assert not missing + bare, f"docs/architecture.md names files that do not exist: {missing + bare}"


def test_every_function_on_the_page_is_where_the_page_says() -> None:
    wrong = []
    for block in BLOCKS:
        files = _python_named_in(block) or list(_python_files())
        for token in _tokens(block):
            match = CALL.match(token)
            if match and not any(match.group(1) in _defined(path) for path in files):
                where = ", ".join(str(p.relative_to(ROOT)) for p in files[:6])
                wrong.append(f"{token} is not defined in {where}")
    assert not wrong, "docs/architecture.md:\n" + "\n".join(wrong)


def test_every_class_and_constant_on_the_page_is_defined() -> None:
    everywhere = frozenset().union(*(_defined(path) for path in _python_files()))
    unknown = sorted(
        {token for block in BLOCKS for token in _tokens(block) if CONSTANT.match(token)} - everywhere
    )
    assert not unknown, f"docs/architecture.md names what no module defines: {unknown}"


def test_every_task_on_the_page_is_registered() -> None:
    labels = set(_labels())
    quoted = re.findall(r"[`\"]([a-z_]+\.[a-z_]+)[`\"]", DOC.read_text())
    named = {name for name in quoted if name.split(".")[0] in labels}
    assert named, "the page names no task: the pattern is wrong"
    assert not named - _task_names(), (
        f"tasks the page names that do not exist: {sorted(named - _task_names())}"
    )


def test_the_floor_diagram_is_the_declared_floors() -> None:
    declared = _labels()
    diagram = re.search(r"```text\nfloor\n(.*?)```", DOC.read_text(), re.S)
    assert diagram, "docs/architecture.md has no ```text block starting with the line 'floor'"
    drawn: dict[str, int] = {}
    for line in diagram.group(1).splitlines():
        number, _, rest = line.strip().partition(" ")
        for word in rest.split():
            if word not in declared:
                break
            drawn[word] = int(number)
    assert drawn == declared
