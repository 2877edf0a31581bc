"""Entry-point discovery: found without importing, loaded on demand, failures isolated."""

from importlib.metadata import EntryPoint

import pytest

from seqapps import plugins, registry
from seqapps.exceptions import DuplicatePluginError, PluginLoadError, UnknownNameError

GROUP = plugins.TASK_GROUP


def record(name, value, distribution="dist-a"):
    return plugins.PluginRecord(name, distribution, "1.0", GROUP, EntryPoint(name, value, GROUP))


def test_find_plugins_is_sorted_and_imports_nothing():
    eps = [
        EntryPoint("zeta", "module_that_does_not_exist_z:Task", GROUP),
        EntryPoint("alpha", "module_that_does_not_exist_a:Task", GROUP),
    ]
    found = plugins.find_plugins(GROUP, eps)
    assert [r.name for r in found] == ["alpha", "zeta"]
    assert found[0].target == "module_that_does_not_exist_a:Task"


def test_installed_builtin_task_is_found_with_its_distribution():
    found = {r.name: r for r in registry.task_records()}
    assert found["sentiment"].distribution == "seqapps-sentiment"
    assert found["sentiment"].target == "seqapps_sentiment.task:SentimentTask"


def test_broken_plugin_is_listed_with_its_error_and_others_still_load():
    records = [
        record("broken", "module_that_does_not_exist:Task", "broken-dist"),
        record("sentiment", "seqapps_sentiment.task:SentimentTask", "seqapps-sentiment"),
    ]
    rows = {row.record.name: row for row in registry.list_tasks(records)}
    assert rows["broken"].obj is None
    assert "broken-dist" in rows["broken"].problem
    assert "ModuleNotFoundError" in rows["broken"].problem
    assert rows["sentiment"].obj.name == "sentiment"


def test_loading_a_broken_plugin_raises_plugin_load_error():
    with pytest.raises(PluginLoadError, match="failed to load"):
        registry.load_task("broken", [record("broken", "no_such_module_q:Task")])


def test_entry_point_that_is_not_a_task_is_rejected():
    with pytest.raises(PluginLoadError, match="not a seqapps Task"):
        registry.load_task("x", [record("x", "os.path:join")])


def test_two_distributions_claiming_one_name_is_an_error_naming_both():
    records = [
        record("sentiment", "seqapps_sentiment.task:SentimentTask", "seqapps-sentiment"),
        record("sentiment", "other_pkg.task:Sentiment", "acme-sentiment"),
    ]
    with pytest.raises(DuplicatePluginError) as caught:
        registry.load_task("sentiment", records)
    assert "seqapps-sentiment" in str(caught.value) and "acme-sentiment" in str(caught.value)
    rows = registry.list_tasks(records)
    assert all(row.obj is None and "also claimed" in row.problem for row in rows)


def test_unknown_name_lists_what_is_available():
    with pytest.raises(UnknownNameError, match="available: sentiment"):
        registry.load_task("nope", [record("sentiment", "seqapps_sentiment.task:SentimentTask")])


def test_builtin_archs_are_registered_and_describe_themselves():
    rows = {row.record.name: row.obj for row in registry.list_archs()}
    for name in ("rnn", "lstm", "gru", "birnn", "bilstm", "bigru", "bow"):
        assert rows[name] is not None, name
        assert rows[name].summary
    assert rows["lstm"].fused_gpu_kernel and not rows["rnn"].fused_gpu_kernel
    assert not rows["bilstm"].supports("generation")
    assert rows["lstm"].supports("generation")
