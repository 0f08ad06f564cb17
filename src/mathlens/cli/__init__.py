"""``mathlens …``: typer sub-apps per capability, joined under one command; each verb is one
library call."""

from __future__ import annotations

import typer

from . import corpus, evals, improve, lab, sandbox, train, view

app = typer.Typer(
    help="mathlens: do transformers do math by case or by rule? Train, probe and draw.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for capability in (lab.app, train.app, evals.app, improve.app, view.app):
    app.add_typer(capability)
app.add_typer(sandbox.sandbox_app, name="sandbox")
app.add_typer(improve.rm_app, name="rm")
app.add_typer(corpus.corpus_app, name="corpus")


def main() -> None:
    app()
