"""Plugin lints: registration, discovery, policy, and failures becoming plugin-error."""

from __future__ import annotations

from importlib import metadata

import pytest

import conjure
import conjure.plugins as plugins


def _plugin_diags(world, lint_id):
    return [d for d in conjure.lint(world) if d.lint == lint_id]


def test_decorator_registers_lint_that_runs_in_the_gate(world_dict):
    @plugins.lint("test.hall-check", description="flags the hall")
    def hall_check(world):
        assert "{house}" not in world["scene"]["states"]["hall"]["base"]  # the resolved world
        return [{"path": "state[hall].base", "message": "the hall is flagged"}]

    assert hall_check.id == "plugin.test.hall-check"
    diags = _plugin_diags(world_dict, "plugin.test.hall-check")
    assert diags == [
        conjure.Diagnostic("plugin.test.hall-check", "warning", "state[hall].base", "the hall is flagged", None)
    ]


def test_plugin_findings_accept_objects_and_defaults(world_dict):
    plugins.register_lint("test.objects", lambda w: [plugins.Finding("whole-world note", severity="info", loc={"field": "name"})])
    (d,) = _plugin_diags(world_dict, "plugin.test.objects")
    assert (d.severity, d.path, d.loc) == ("info", "world", {"field": "name"})


def test_plugin_lint_id_is_forced(world_dict):
    plugins.register_lint("test.forced", lambda w: [{"lint": "negation", "message": "m"}])
    assert len(_plugin_diags(world_dict, "plugin.test.forced")) == 1
    assert not any(d.lint == "negation" for d in conjure.lint(world_dict))


@pytest.mark.parametrize("name", ["", "Upper", "has space", "slash/name", "x" * 101])
def test_bad_plugin_names_are_refused(name):
    with pytest.raises(ValueError):
        plugins.register_lint(name, lambda w: [])


def test_registering_another_function_under_a_taken_name_fails():
    plugins.register_lint("test.taken", lambda w: [])
    with pytest.raises(ValueError):
        plugins.register_lint("test.taken", lambda w: [])


def test_raising_plugin_becomes_plugin_error(world_dict):
    def boom(world):
        raise RuntimeError("kaboom")

    plugins.register_lint("test.boom", boom)
    result = conjure.validate(world_dict)
    errs = [d for d in result.diagnostics if d.lint == "plugin-error"]
    assert len(errs) == 1
    assert "plugin.test.boom" in errs[0].message
    assert "RuntimeError" in errs[0].message and "kaboom" in errs[0].message
    assert result.ok  # a broken plugin never fails the gate


@pytest.mark.parametrize(
    "garbage",
    [42, "a string", {"message": "a dict, not a list"}, [42], [{"path": "world"}], [{"message": 5}],
     [{"message": "m", "severity": "fatal"}], [{"message": "m", "loc": [1]}], [{"message": "m", "loc": {"x": float("nan")}}]],
    ids=["int", "str", "dict", "item-int", "no-message", "message-int", "bad-severity", "loc-list", "loc-nan"],
)
def test_garbage_from_plugin_becomes_one_plugin_error(world_dict, garbage):
    plugins.register_lint("test.garbage", lambda w: garbage)
    diags = conjure.lint(world_dict)
    errs = [d for d in diags if d.lint == "plugin-error"]
    assert len(errs) == 1 and "plugin.test.garbage" in errs[0].message
    assert not any(d.lint == "plugin.test.garbage" for d in diags)


def test_plugin_error_severity_is_capped_without_opt_in(world_dict):
    plugins.register_lint("test.strict", lambda w: [{"message": "blocking?", "severity": "error"}])
    result = conjure.validate(world_dict)
    (d,) = [d for d in result.diagnostics if d.lint == "plugin.test.strict"]
    assert d.severity == "warning"
    assert result.ok


def test_error_opt_in_blocks_ok(world_dict):
    plugins.register_lint("test.strict", lambda w: [{"message": "blocking", "severity": "warning"}])
    plugins.configure(error_plugins=["test.strict"])
    result = conjure.validate(world_dict)
    (d,) = [d for d in result.diagnostics if d.lint == "plugin.test.strict"]
    assert d.severity == "error"
    assert not result.ok
    with pytest.raises(conjure.GateError):
        conjure.validate(world_dict, raise_on_error=True)


def test_error_opt_in_from_environment(world_dict, monkeypatch):
    plugins.register_lint("test.envstrict", lambda w: [{"message": "m"}])
    monkeypatch.setenv("CONJURE_PLUGINS_ERROR", "plugin.test.envstrict, other")
    assert not conjure.validate(world_dict).ok


def test_disabled_plugins_do_not_run(world_dict, monkeypatch):
    calls = []
    plugins.register_lint("test.off", lambda w: calls.append(1) or [])
    monkeypatch.setenv("CONJURE_PLUGINS_DISABLED", "test")
    conjure.lint(world_dict)
    assert calls == []
    plugins.configure(enabled=["test.off"])
    conjure.lint(world_dict)
    assert calls == [1]


def test_plugins_false_runs_no_plugins(world_dict):
    plugins.register_lint("test.always", lambda w: [{"message": "m"}])
    assert not any(d.lint.startswith("plugin") for d in conjure.lint(world_dict, plugins=False))


def test_example_plugin_is_discovered_through_entry_points():
    eps = [ep.name for ep in metadata.entry_points(group=plugins.ENTRY_POINT_GROUP)]
    assert "prose" in eps, "pip install --no-deps -e plugins/conjure-lint-prose"
    names = {p.name for p in plugins.discover(refresh=True)}
    assert {"prose.repeated-opening", "prose.vague-event", "prose.thin-base"} <= names


def test_example_plugin_runs_in_the_gate(world_dict):
    world_dict["scene"]["events"][0]["name"] = "Go"
    diags = conjure.lint(world_dict)
    vague = [d for d in diags if d.lint == "plugin.prose.vague-event"]
    assert len(vague) == 1 and vague[0].path == "event[Go].name"


def test_broken_entry_point_becomes_plugin_error(world_dict, monkeypatch):
    broken = metadata.EntryPoint(name="broken", value="conjure_no_such_module:lints", group=plugins.ENTRY_POINT_GROUP)
    real = metadata.entry_points

    def fake(**kwargs):
        found = list(real(**kwargs))
        return found + [broken] if kwargs.get("group") == plugins.ENTRY_POINT_GROUP else found

    monkeypatch.setattr(metadata, "entry_points", fake)
    try:
        found = plugins.discover(refresh=True)
        assert any(p.name == "broken" for p in found)
        errs = [d for d in conjure.lint(world_dict) if d.lint == "plugin-error"]
        assert len(errs) == 1
        assert "conjure_no_such_module" in errs[0].message
    finally:
        monkeypatch.undo()
        plugins.discover(refresh=True)


def test_discovery_is_cached():
    first = plugins.discover()
    assert [p.name for p in plugins.discover()] == [p.name for p in first]
    assert plugins.discover()[0] is first[0]
