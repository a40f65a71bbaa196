"""The house rules, checked on the source: who may import whom, and how big things may grow.

Each app's AppConfig declares its `floor` (apps are stacked in the order data flows; an app imports
only from its own floor or below) and its `public` modules (what other apps may import: its
services, selectors and models, plus the few domain modules it offers as a library). The checks:

- every import from another app goes to a module that app declares public;
- no app imports an app on a higher floor, except the edges listed in `UPWARD` with their reason
  (an entry that is no longer needed fails too, so the list only shrinks);
- no import circle between modules, counting imports written inside functions;
- no module over 500 lines and no function over 80 lines (migrations aside).

Like the URL registry in tests/tenancy.py: a new app declares its floor and public modules, or this
fails naming what is missing. docs/architecture.md draws the same floors.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps as registry

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("apps", "config", "sdk/src")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

# (importing app, imported app): why this one edge points up a floor.
UPWARD: dict[tuple[str, str], str] = {
    ("core", "warehouse"): "the readiness probe (/readyz) pings ClickHouse through the one door",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (the longest known module the statement names)
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[:2] == ["sdk", "src"]:
        parts = parts[2:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _sources()
TREES = {name: ast.parse(path.read_text(), filename=str(path)) for name, path in MODULES.items()}


def _imports(name: str) -> Iterator[Import]:
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield Import(name, full if full in MODULES else node.module, node.lineno)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno)


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "apps" else None


def _cross_app_imports() -> Iterator[tuple[Import, str, str]]:
    for name in MODULES:
        source = _app_of(name)
        if source is None:
            continue
        for found in _imports(name):
            target = _app_of(found.target)
            if target is not None and target != source:
                yield found, source, target


def _configs() -> dict[str, object]:
    return {
        config.name.split(".")[1]: config
        for config in registry.get_app_configs()
        if config.name.startswith("apps.")
    }


def test_every_app_declares_its_floor_and_public_modules() -> None:
    on_disk = {path.parent.name for path in (ROOT / "apps").glob("*/apps.py")}
    configs = _configs()
    assert on_disk == set(configs), f"apps not installed: {sorted(on_disk - set(configs))}"
    missing = [
        label for label, config in configs.items() if not isinstance(getattr(config, "floor", None), int)
    ]
    assert not missing, f"AppConfig without a `floor`: {missing}"
    for label, config in configs.items():
        public = getattr(config, "public", None)
        assert isinstance(public, tuple), f"{label}: AppConfig.public must be a tuple of module names"
        for module in public:
            dotted = f"apps.{label}.{module}"
            assert dotted in MODULES, f"{label} declares {module!r} public, but {dotted} does not exist"


def test_apps_import_only_what_the_owning_app_declares_public() -> None:
    configs = _configs()
    wrong = set()
    for found, _source, target in _cross_app_imports():
        rest = found.target.split(".")[2:]
        public = getattr(configs[target], "public", ())
        if not rest or not any(".".join(rest[: i + 1]) in public for i in range(len(rest))):
            wrong.add(f"{found.module}:{found.line} imports {found.target} (public in {target}: {public})")
    assert not wrong, "imports past another app's public modules:\n" + "\n".join(sorted(wrong))


def test_no_app_imports_a_higher_floor() -> None:
    configs = _configs()
    floor = {label: getattr(config, "floor", 0) for label, config in configs.items()}
    upward: dict[tuple[str, str], list[str]] = {}
    for found, source, target in _cross_app_imports():
        if floor[target] > floor[source]:
            where = f"{found.module}:{found.line} → {found.target}"
            if where not in upward.setdefault((source, target), []):
                upward[(source, target)].append(where)
    unlisted = {edge: where for edge, where in upward.items() if edge not in UPWARD}
    assert not unlisted, "imports up a floor:\n" + "\n".join(
        f"{a} (floor {floor[a]}) → {b} (floor {floor[b]}): {', '.join(where)}"
        for (a, b), where in unlisted.items()
    )
    stale = sorted(set(UPWARD) - set(upward))
    assert not stale, f"UPWARD lists edges nothing uses any more; remove them: {stale}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_between_modules() -> None:
    graph = {name: set() for name in MODULES}
    for name in MODULES:
        for found in _imports(name):
            target = found.target
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    assert _cycles(graph) == []


def test_modules_and_functions_stay_small() -> None:
    big = []
    for name, path in sorted(MODULES.items()):
        where = path.relative_to(ROOT)
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            big.append(f"{where}: {lines} lines (split it by subdomain)")
        big += [
            f"{where}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(TREES[name])
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno is not None
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        ]
    assert not big, (
        f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function:\n" + "\n".join(big)
    )
