"""Answer formats: how a task example becomes (prompt, target), from the answer alone to a
recited rule or a program run by an interpreter."""

from __future__ import annotations

from difflib import get_close_matches

from ..errors import MathlensError
from .base import Direct, Format
from .numbers import IndexHints, Padded, Reversed
from .rule import RuleFollowing
from .scratchpad import Scratchpad
from .tir import ToolIntegrated

FORMATS: dict[str, type[Format]] = {
    "direct": Direct,
    "reversed": Reversed,
    "padded": Padded,
    "scratchpad": Scratchpad,
    "rule": RuleFollowing,
    "tir": ToolIntegrated,
}


def make_format(name: str, **options) -> Format:
    """A format by name; ``options`` go to it (e.g. ``rule``, ``style``, ``rule_text`` for rule)."""
    if name not in FORMATS:
        close = get_close_matches(name, FORMATS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MathlensError(f"unknown format {name!r}{hint}; known: {', '.join(FORMATS)}")
    try:
        return FORMATS[name](**options)
    except TypeError as err:
        raise MathlensError(f"format {name!r}: {err}") from None


__all__ = [
    "FORMATS",
    "Direct",
    "Format",
    "IndexHints",
    "Padded",
    "Reversed",
    "RuleFollowing",
    "Scratchpad",
    "ToolIntegrated",
    "make_format",
]
