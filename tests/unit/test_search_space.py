"""`--search NAME=SPEC` as users type it: ranges, log scales, choices, and one-line refusals."""

import pytest

from seqapps.exceptions import ConfigError
from seqapps.search_space import describe, from_mapping, parse_pairs


def test_ranges_keep_their_type_and_scale_and_choices_are_typed_as_yaml():
    units, dropout, rate, arch, layers = parse_pairs(
        ["units=16..256:log", "dropout=0..0.5", "learning-rate=1e-4..1e-2:log", "arch=lstm,gru",
         "layers=1,2"]
    )  # fmt: skip
    assert (units.low, units.high, units.log, units.integer) == (16, 256, True, True)
    assert (dropout.low, dropout.high, dropout.log, dropout.integer) == (0, 0.5, False, False)
    assert rate.name == "learning_rate" and rate.low == pytest.approx(1e-4) and rate.log
    assert arch.choices == ("lstm", "gru")
    assert layers.choices == (1, 2)
    assert units.contains(64) and not units.contains(300) and not units.contains(6.5)
    assert arch.contains("gru") and not arch.contains("bilstm")
    assert describe([units, arch]) == "arch=lstm,gru units=16..256:log"


def test_a_pipeline_search_mapping_takes_lists_as_choices():
    arch, units = from_mapping({"arch": ["lstm", "gru"], "units": "8..64"}, "pipeline p.yaml")
    assert arch.choices == ("lstm", "gru")
    assert (units.low, units.high, units.integer) == (8, 64, True)


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("units", "expected NAME=SPEC"),
        ("units=256..16", "LOW must be below HIGH"),
        ("units=0..64:log", "a log scale needs LOW above 0"),
        ("units=8..64:ln", "unknown scale 'ln'"),
        ("units=a..b", "both ends must be numbers"),
        ("units=64", "expected a range LOW..HIGH"),
        ("arch=lstm,", "at least two choices"),
        ("arch=lstm,lstm", "a choice is repeated"),
        ("tracking_uri=a,b", "cannot be searched"),
    ],
)
def test_a_bad_spec_is_one_line_naming_it(pair, expected):
    with pytest.raises(ConfigError) as raised:
        parse_pairs([pair])
    message = str(raised.value)
    assert expected in message and "\n" not in message
    assert message.startswith("--search")


def test_a_name_searched_twice_is_refused():
    with pytest.raises(ConfigError, match="units: given twice"):
        parse_pairs(["units=8..16", "units=32..64"])


def test_a_pipeline_file_with_search_is_a_study_checked_before_training(tmp_path):
    from seqapps import sweeps

    path = tmp_path / "study.yaml"
    path.write_text(
        "task: stock\nparams: {epochs: 3}\nsearch: {units: 8..32:log, arch: [lstm, gru]}\n"
        "study: {trials: 5, pruner: none}\n"
    )
    study = sweeps.load(path).study
    assert (study.trials, study.pruner, study.base.epochs) == (5, "none", 3)
    assert [d.name for d in study.space] == ["units", "arch"]
    assert study.experiment == "pipeline-study"

    for text, expected in [
        ("search: {units: 8..32}\ngrid: {seed: [1, 2]}", "search excludes grid"),
        ("search: {units: 8..}", "search units='8..': expected a range"),
        ("search: {units: 8..32}\nstudy: {trial: 3}", "study: unknown key 'trial'"),
        ("search: {units: 8..32}\nstudy: {sampler: cmaes}", "sampler 'cmaes' is not one of"),
        ("search: {spectral_radius: 0.5..0.9}", "no such option"),
    ]:
        path.write_text(f"task: stock\n{text}\n")
        with pytest.raises(ConfigError) as raised:
            sweeps.load(path)
        assert expected in str(raised.value) and str(raised.value).startswith("pipeline ")
