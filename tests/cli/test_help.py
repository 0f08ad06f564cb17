"""Every verb's --help shows every option's real default, as the user will get it.

typer bundles its own click, so its options are not ``click.Option`` instances: the test
knows an option by ``param_type_name == "option"`` (duck-typed), or it would check nothing.
"""

import re

import pytest
import typer
from typer.testing import CliRunner

from mathlens.cli import app

COMMAND = typer.main.get_command(app)


def verbs(group, path=()) -> list[list[str]]:
    """Every leaf command's path, through groups of any depth (sandbox, rm, corpus)."""
    found = []
    for name, cmd in group.commands.items():
        found += verbs(cmd, (*path, name)) if hasattr(cmd, "commands") else [[*path, name]]
    return found


VERBS = verbs(COMMAND)
GROUPS = [[name] for name, cmd in COMMAND.commands.items() if hasattr(cmd, "commands")]
UI_ONLY = {"--help", "--config"}  # nothing to show: absent means no file


def command(path: list[str]):
    cmd = COMMAND
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def rendered(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output.replace("│", " "))


def options(path: list[str]) -> list:
    return [p for p in command(path).params if p.param_type_name == "option" and p.opts[0] not in UI_ONLY]


def test_the_walk_sees_options_and_every_group():
    assert {"sandbox", "rm", "corpus"} <= {g[0] for g in GROUPS}
    assert ["corpus", "run"] in VERBS and ["rm", "train"] in VERBS and ["sandbox", "run"] in VERBS
    assert len(options(["lso"])) > 20 and all(options(v) or v == ["grade"] for v in (["eval"], ["finetune"]))


@pytest.mark.parametrize("path", VERBS + GROUPS, ids=" ".join)
def test_every_verb_has_an_example(path):
    assert "Example: mathlens " + " ".join(path) in rendered(path)


@pytest.mark.parametrize("path", VERBS, ids=" ".join)
def test_every_option_shows_its_default(path):
    text = rendered(path)
    missing = []
    for param in options(path):
        flag = param.opts[0]
        if param.required or "Required (a flag or a --config key)" in (param.help or ""):
            continue
        if isinstance(param.show_default, str):
            shown = f"[default: ({param.show_default})]" in text
        elif param.is_bool_flag and param.secondary_opts:  # --x/--no-x: typer shows no default of its own
            shown = param.default is not None or "Default: --" in text
        elif param.is_bool_flag:
            shown = param.default is False  # a plain switch is off unless given
        else:
            shown = param.default is not None and f"[default: {param.default}]" in text
        if not shown:
            missing.append(flag)
    assert not missing, f"{' '.join(path)}: {', '.join(missing)} show no default"


def test_defaults_are_the_ones_each_verb_really_uses():
    lso, lengthgen, sweep = rendered(["lso"]), rendered(["lengthgen"]), rendered(["sweep"])
    assert "Transformer layers. [default: (2)]" in lso and "Transformer layers. [default: (3)]" in lengthgen
    assert "[default: (learned)]" in lso and "[default: (rope)]" in lengthgen
    assert "[default: (direct)]" in lso and "[default: (50,50)]" in lso
    assert "[default: (1,2,4,6,8,10,15)]" in sweep and "Default: --no-control" in sweep and "Default: --control" in lso


@pytest.mark.parametrize("path", VERBS, ids=" ".join)
def test_every_verb_takes_a_config_file(path):
    assert any("--config" in p.opts for p in command(path).params), f"{' '.join(path)} has no --config"


def test_a_config_file_fills_what_the_flags_leave_out_and_names_unknown_keys(tmp_path):
    """``export`` has no config class: its --config is click's default map, flags still win."""
    config = tmp_path / "export.yaml"
    config.write_text("task: subtraction\nformat: direct\ndigits: 1-2\nn: 3\n")
    out = tmp_path / "rows.jsonl"
    done = CliRunner().invoke(app, ["export", "--config", str(config), "--n", "2", "--out", str(out)])
    assert done.exit_code == 0, done.output
    rows = [line for line in out.read_text().splitlines() if line]
    assert len(rows) == 2 * 2 and all('"task": "subtraction"' in row for row in rows)  # flags win: --n 2
    config.write_text("nn: 3\n")
    done = CliRunner().invoke(app, ["export", "--config", str(config), "--out", str(out)],
                              env={"COLUMNS": "400"})  # the error box unwrapped, whatever the path's length
    assert done.exit_code == 2 and "no option nn" in done.output
