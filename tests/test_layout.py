"""The layout's rules, checked: capabilities meet only through records and the primitives."""

import re
from pathlib import Path

import mathlens

PACKAGE = Path(mathlens.__file__).parent
CAPABILITIES = {"lab", "evals", "improve", "corpus"}
PRIMITIVES = {"tasks", "formats", "models", "train", "sandbox", "grading", "backends"}
IMPORT = re.compile(r"^\s*from (\.+)(\w*)", re.MULTILINE)


def imported_packages(path: Path) -> set[str]:
    """Top-level mathlens subpackages a module imports (relative imports resolved)."""
    parts = path.relative_to(PACKAGE).parts[:-1]
    found = set()
    for dots, name in IMPORT.findall(path.read_text()):
        up = len(dots) - 1
        base = parts[: len(parts) - up] if up <= len(parts) else ()
        target = (*base, name) if name else base
        if target:
            found.add(target[0])
    return found


def test_capabilities_do_not_import_each_other_and_primitives_import_no_capability():
    for path in PACKAGE.rglob("*.py"):
        home = path.relative_to(PACKAGE).parts[0]
        others = imported_packages(path) - {home}
        if home in CAPABILITIES:
            assert not others & CAPABILITIES, f"{path}: imports {others & CAPABILITIES}"
        if home in PRIMITIVES:
            assert not others & (CAPABILITIES | {"cli"}), f"{path}: imports {others & (CAPABILITIES | {'cli'})}"


def test_no_module_is_overgrown():
    for path in PACKAGE.rglob("*.py"):
        if path.name != "worker.py":  # the sandbox's worker: one process's whole life, kept together
            assert len(path.read_text().splitlines()) <= 400, path
