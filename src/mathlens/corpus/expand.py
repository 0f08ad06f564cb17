"""Step ②: meta-information expansion. Where many pages of a domain or URL folder were recalled,
the rest of that folder is probably math the classifier missed: those pages become candidates
(the report widens its pool this way between recall cycles)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from datatrove.pipeline.base import PipelineStep

from .text import path_prefix


@dataclass(frozen=True)
class ExpandConfig:
    rate: float = 0.5  # a group whose recalled share reaches this is expanded
    depth: int = 1  # URL folders below the domain that name a group (0: domains only)
    min_docs: int = 5  # smaller groups are judged by their domain


def group_rates(docs: Iterable[dict], cfg: ExpandConfig = ExpandConfig()) -> list[dict]:
    """Per domain (all its pages) and per URL folder with at least ``min_docs`` pages: pages,
    recalled, their share, and whether the group is expanded; most pages first."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for doc in docs:
        for key in {path_prefix(doc["url"], depth) for depth in range(cfg.depth + 1)}:
            counts[key][0] += 1
            counts[key][1] += bool(doc["recalled"])
    rows = [
        {"group": g, "pages": n, "recalled": r, "rate": r / n,
         "expanded": n >= cfg.min_docs and r / n >= cfg.rate and r < n}
        for g, (n, r) in counts.items()
        if "/" not in g or n >= cfg.min_docs  # a domain always; a folder when big enough to judge
    ]
    return sorted(rows, key=lambda row: (-row["pages"], row["group"]))


class MetaExpansion(PipelineStep):
    """Keeps recalled documents and, marked ``expanded``, the unrecalled ones of expanded groups."""

    type = "🔢 - MATH"
    name = "🧭 meta expansion"

    def __init__(self, groups: list[dict], cfg: ExpandConfig = ExpandConfig()) -> None:
        super().__init__()
        self.groups = {row["group"]: row["expanded"] for row in groups}
        self.cfg = cfg

    def group(self, url: str) -> str | None:
        """The page's most specific group: its folder when big enough to be one, else its domain."""
        for depth in range(self.cfg.depth, -1, -1):
            if (key := path_prefix(url, depth)) in self.groups:
                return key
        return None

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            self.stat_update("total")
            if doc.metadata.get("recalled"):
                self.stat_update("recalled")
                yield doc
            elif self.groups.get(self.group(doc.metadata.get("url", ""))):
                doc.metadata["expanded"] = True
                self.stat_update("expanded")
                yield doc
            else:
                self.stat_update("dropped")
