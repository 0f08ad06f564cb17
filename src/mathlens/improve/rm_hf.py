"""A Hugging Face reward model: the policy's checkpoint as a sequence classifier with one label.

Trained by ``rm.fit_listwise`` (the listwise loss, the same loop as the tiny one), saved as any
checkpoint is, with ``reward_model.json`` beside it so that ``load_reward_model`` knows the
folder. It reads what the policy read: the user turn through the chat template, then the response.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from ..errors import MathlensError
from ..models.hf import from_pretrained, require_transformers
from ..tracking import Tracker
from .policy import user_prompt

MARKER = "reward_model.json"


class HFScorer:
    """A sequence classifier (``num_labels=1``) and its tokenizer."""

    def __init__(self, model, tokenizer, max_length: int = 1024, chat_template: str = "auto") -> None:
        self.model, self.tokenizer, self.max_length = model, tokenizer, max_length
        self.chat_template = chat_template

    def scores(self, questions: Sequence[str], completions: Sequence[str]):
        """Scores with a gradient path (training)."""
        texts = [user_prompt(q, self.tokenizer, self.chat_template) + c for q, c in zip(questions, completions)]
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        return self.model(**batch.to(self.model.device)).logits[:, 0]

    def score(self, questions: Sequence[str], completions: Sequence[str], batch_size: int = 32) -> list[float]:
        import torch

        was = self.model.training
        self.model.eval()
        with torch.inference_mode():
            out = [float(s) for i in range(0, len(questions), batch_size)
                   for s in self.scores(questions[i : i + batch_size], completions[i : i + batch_size]).float()]  # fmt: skip
        self.model.train(was)
        return out


def _classifier(name_or_path: str, device: str | None = None, model_args: str = ""):
    """The checkpoint (hub id, folder, .gguf, packaged name) with a one-label head, fp32 unless told."""
    transformers = require_transformers()
    import torch

    from ..train.hf import training_args

    args = training_args(model_args)
    model, tokenizer = from_pretrained(transformers.AutoModelForSequenceClassification, name_or_path, args, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id  # the classifier reads the last token that is not padding
    tokenizer.padding_side = "right"
    model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return model, tokenizer


def train_hf_reward_model(policy: str, groups: Sequence, cfg, out: str | Path, progress: bool = True) -> dict:
    """Fine-tune ``policy`` with a fresh one-label head on the listwise loss; save it to ``out``."""
    import torch

    from .reward import fit_listwise

    torch.manual_seed(cfg.seed)
    model, tokenizer = _classifier(policy, model_args=cfg.model_args)
    scorer = HFScorer(model.train(), tokenizer, chat_template=cfg.chat_template)
    with Tracker(cfg.report_to, out, config=asdict(cfg)) as tracker:
        losses = fit_listwise(scorer.scores, model.parameters(), groups, cfg, progress, tracker)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / MARKER).write_text(json.dumps({"policy": policy, "rm_config": asdict(cfg), "losses": losses}, indent=1))
    return {"problems": len(groups), "losses": losses}


def load_hf_reward_model(path: str | Path, device: str | None = None) -> HFScorer:
    model, tokenizer = _classifier(str(path), None if device in (None, "auto") else device)
    saved = json.loads((Path(path) / MARKER).read_text()).get("rm_config", {})
    return HFScorer(model.eval(), tokenizer, chat_template=saved.get("chat_template", "auto"))
