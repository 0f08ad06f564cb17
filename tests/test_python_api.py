"""docs/python-api.md's examples run as they stand, in order, in one namespace."""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_page_has_examples():
    assert len(blocks(PAGE.read_text())) >= 6


def test_every_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, code in enumerate(blocks(PAGE.read_text())):
        exec(compile(code, f"{PAGE.name} block {i + 1}", "exec"), namespace)  # noqa: S102  (our own docs)
