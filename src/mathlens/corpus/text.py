"""Text and URL normalization shared by the corpus steps."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_SYMBOL = re.compile(r"([^\w\s])")
_SPACE = re.compile(r"\s+")


def normalize(text: str, max_chars: int | None = 20_000) -> str:
    """One line for fastText: NFKC, lower case, every symbol its own token (``x^2`` → ``x ^ 2``:
    the operators are what tell math from prose), white space collapsed."""
    text = unicodedata.normalize("NFKC", text[:max_chars] if max_chars else text).lower()
    return _SPACE.sub(" ", _SYMBOL.sub(r" \1 ", text)).strip()


def domain(url: str) -> str:
    return urlsplit(url).netloc.lower()


def path_prefix(url: str, depth: int = 1) -> str:
    """``https://a.org/math/algebra/p1`` → ``a.org/math`` at depth 1: the domain and the first
    ``depth`` folders of the path (the page's own name is never part of it)."""
    parts = urlsplit(url)
    folders = [s for s in parts.path.split("/") if s][:-1]
    return "/".join([parts.netloc.lower(), *folders[:depth]])
