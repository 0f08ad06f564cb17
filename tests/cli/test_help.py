"""Every verb's --help shows every option's real default, as the user will get it."""

import re

import click
import pytest
import typer
from typer.testing import CliRunner

from mathlens.cli import app

COMMAND = typer.main.get_command(app)
GROUPS = ("sandbox", "rm")  # verbs with verbs of their own
VERBS = [[name] for name in COMMAND.commands] + [
    [group, name] for group in GROUPS for name in COMMAND.commands[group].commands
]
# Options whose absence is the default: nothing to show.
NO_DEFAULT = {"--data", "--config", "--model", "--rule", "--limit", "--steps", "--out", "--rm"}


def command(path: list[str]) -> click.Command:
    cmd = COMMAND
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def rendered(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output.replace("│", " "))


@pytest.mark.parametrize("path", VERBS, ids=" ".join)
def test_every_option_shows_its_default(path):
    text = rendered(path)
    assert "Example: mathlens" in text
    for param in command(path).params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        flag = param.opts[0]
        if isinstance(param.show_default, str):
            assert f"[default: ({param.show_default})]" in text, flag
        elif param.is_bool_flag:
            assert param.default is not None or "Default: --" in text, flag
        elif param.default is not None:
            assert f"[default: {param.default}]" in text, flag
        else:
            assert flag in NO_DEFAULT, f"{path}: {flag} shows no default"


def test_defaults_are_the_ones_each_verb_really_uses():
    lso, lengthgen, sweep = rendered(["lso"]), rendered(["lengthgen"]), rendered(["sweep"])
    assert "Transformer layers. [default: (2)]" in lso and "Transformer layers. [default: (3)]" in lengthgen
    assert "learned or rope. [default: (learned)]" in lso and "learned, rope or none. [default: (rope)]" in lengthgen
    assert "[default: (direct)]" in lso and "[default: (50,50)]" in lso
    assert "[default: (1,2,4,6,8,10,15)]" in sweep and "Default: --no-control" in sweep and "Default: --control" in lso
