"""datatrove's language filter with a local model file. Its ``LanguageFilter`` downloads the
fastText lid.176 model from the web on first use; where no network reaches (a cluster's compute
nodes, this machine), point this one at a copy on disk instead."""

from __future__ import annotations

from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.utils.lid import LID

from .recall import load_fasttext


class LocalLID(LID):
    """Top-1 language of a fastText model at ``path`` (labels ``__label__en`` and so on)."""

    def __init__(self, path: str, languages: list[str] | None = None) -> None:
        super().__init__(languages)
        self.path = path
        self._model = None

    def predict(self, doc):
        if self._model is None:
            self._model = load_fasttext(self.path)
        labels, probs = self._model.predict([doc.text.replace("\n", " ")], k=1)
        lang, score = labels[0][0].removeprefix("__label__"), float(probs[0][0])
        scores = {lang: score}
        return (lang, score), ({code: scores.get(code, 0.0) for code in self.languages} if self.languages else scores)


class LocalLanguageFilter(BaseFilter):
    """What datatrove's ``LanguageFilter`` does (``language`` and ``language_score`` in the
    metadata; kept when a wanted language scores ``language_threshold`` or more), with the model
    from ``model_path``. Not a subclass: that one insists on the fasttext-numpy2-wheel
    distribution, whose training diverges here (see pyproject's corpus extra)."""

    name = "🌍 language ID (local model)"

    def __init__(self, model_path: str, languages: list[str] | str | None = None, language_threshold: float = 0.65,
                 exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        self.languages = [languages] if isinstance(languages, str) else languages
        self.language_threshold = language_threshold
        self.model = LocalLID(model_path, self.languages)

    def filter(self, doc) -> bool:
        (lang, score), scores = self.model.predict(doc)
        doc.metadata["language"], doc.metadata["language_score"] = lang, score
        if self.languages:
            return any(s >= self.language_threshold for s in scores.values())
        return score >= self.language_threshold
