"""Typed configs: YAML lists, pairs and mappings, or the command line's strings, coerced once."""

import pytest

from mathlens.config import resolve
from mathlens.errors import MathlensError
from mathlens.lab.lengthgen import LengthGenConfig
from mathlens.lab.lso import LSOConfig


def write(tmp_path, text):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


def test_yaml_lists_and_the_old_strings_mean_the_same(tmp_path):
    as_lists = resolve(LSOConfig, write(tmp_path, "center: [[20, 20], [70, 70]]\nradius: [1, 2]\nrange: [0, 99]\n"))
    as_strings = resolve(LSOConfig, center="20,20;70,70", radius="1,2", range="0-99")
    assert as_lists == as_strings
    assert as_lists.center == ((20, 20), (70, 70)) and as_lists.radius == (1, 2) and as_lists.range == (0, 99)
    one = resolve(LSOConfig, write(tmp_path, "center: [50, 50]\nradius: 10\n"))
    assert one.center == ((50, 50),) and one.radius == (10,)


def test_nested_sections_and_flat_keys_fill_the_same_fields(tmp_path):
    nested = resolve(
        LSOConfig, write(tmp_path, "model: {n_layer: 3, positions: rope}\ntrain: {steps: 40, lr: 0.001}\n")
    )
    flat = resolve(LSOConfig, n_layer=3, positions="rope", steps=40, lr=0.001)
    assert nested == flat
    assert (nested.model.n_layer, nested.model.n_embd, nested.train.steps, nested.train.batch_size) == (3, 128, 40, 128)
    flags_win = resolve(LSOConfig, write(tmp_path, "train: {steps: 40}\n"), steps=7)
    assert flags_win.train.steps == 7 and flags_win.train.lr == 3e-3


def test_lengthgen_takes_a_mapping_of_steps_and_digit_lists(tmp_path):
    cfg = resolve(
        LengthGenConfig,
        write(tmp_path, "steps_by_format: {direct: 1000}\ntrain_digits: [1, 2, 3, 5]\nformats: [direct, rule]\n"),
    )
    assert (
        cfg.steps_by_format == {"direct": 1000}
        and cfg.train_digits == (1, 2, 3, 5)
        and cfg.formats == ("direct", "rule")
    )
    assert cfg.train_config("direct").steps == 1000 and cfg.train_config("rule").steps == 3000
    assert resolve(LengthGenConfig, steps_by_format="direct=1000", train_digits="1-3,5").train_digits == (1, 2, 3, 5)


@pytest.mark.parametrize(
    "text, message",
    [
        ("center: [[20, 20], [70]]\n", "key 'center'"),
        ("radius: ten\n", "key 'radius'"),
        ("model: {n_layers: 3}\n", "unknown key 'n_layers' \\(did you mean 'n_layer'\\?\\)"),
        ("steps_by_format: {direct: many}\n", "key 'steps_by_format'"),
        ("stepz: 3\n", "did you mean 'steps'"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path, text, message):
    with pytest.raises(MathlensError, match=message):
        resolve(LengthGenConfig if "steps_by" in text else LSOConfig, write(tmp_path, text))
