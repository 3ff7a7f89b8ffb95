"""The Python facade: World, validate, lint, apply_ops, diff, errors."""

from __future__ import annotations

import json

import pytest

import conjure
from conjure import _core


def test_world_round_trips_through_json(world_dict):
    world = conjure.World.from_dict(world_dict)
    again = conjure.World.from_json(world.to_json())
    assert again == world
    assert json.loads(world.to_json(indent=2)) == world.to_dict()


def test_world_keeps_unknown_fields_everywhere(world_dict):
    world_dict["x-top"] = {"nested": [1, 2.5, None, True]}
    world_dict["scene"]["states"]["hall"]["x-mood"] = "gloomy"
    world_dict["scene"]["events"][0]["x-weight"] = 3
    world = conjure.World.from_json(json.dumps(world_dict))
    data = world.to_dict()
    assert data["x-top"] == {"nested": [1, 2.5, None, True]}
    assert data["scene"]["states"]["hall"]["x-mood"] == "gloomy"
    assert data["scene"]["events"][0]["x-weight"] == 3


def test_world_is_normalised_on_load(world_dict):
    del world_dict["schemaVersion"]
    world = conjure.World.from_dict(world_dict)
    assert world.to_dict()["schemaVersion"] == "1.0"
    assert world.events[0]["from"] == ["hall"]


def test_world_accessors(world_dict):
    world = conjure.World.from_dict(world_dict)
    assert world.entrance == "hall"
    assert set(world.states) == {"hall", "garden"}
    assert [e["name"] for e in world.events] == ["Open the garden door"]
    assert world.name == "Small"
    assert "states=2" in repr(world)


def test_world_accessors_return_copies(world_dict):
    world = conjure.World.from_dict(world_dict)
    world.states["hall"]["base"] = "changed"
    world.to_dict()["scene"]["states"].clear()
    assert world.states["hall"]["base"].startswith("the long hall")


def test_world_from_file_loads_example(abbey_path):
    world = conjure.World.from_file(abbey_path)
    assert world.entrance == "courtyard"
    assert len(world.states) >= 6


def test_world_from_normalised_equals_original(world_dict):
    world = conjure.World.from_dict(world_dict)
    assert conjure.World.from_dict(_core.normalise(world_dict)) == world


def test_invalid_json_raises_parse_error_with_position():
    with pytest.raises(conjure.ParseError) as info:
        conjure.World.from_json('{\n  "name": "x",\n  "scene": }')
    err = info.value
    assert err.code == "parse_error"
    assert (err.line, err.column) == (3, 12)
    assert isinstance(err.offset, int)
    assert isinstance(err, ValueError) and isinstance(err, conjure.ConjureError)


def test_document_over_byte_limit_raises_limit_error(world_dict):
    limits = conjure.Limits(max_document_bytes=64)
    with pytest.raises(conjure.LimitError) as info:
        conjure.World.from_json(json.dumps(world_dict), limits=limits)
    assert info.value.code == "limit"
    assert "64" in str(info.value)


def test_deep_nesting_is_refused_not_crashing():
    with pytest.raises(conjure.LimitError):
        conjure.World.from_json("[" * 100_000 + "]" * 100_000)
    deep: list = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    with pytest.raises(conjure.LimitError):
        conjure.validate({"x": deep})


@pytest.mark.parametrize(
    "bad, where",
    [
        ({"a": {1: "x"}}, "world.a"),
        ({"a": [1, {"b": float("nan")}]}, "world.a[1].b"),
        ({"a": [1, {"b": float("inf")}]}, "world.a[1].b"),
        ({"a": {"b": {1, 2}}}, "world.a.b"),
        ({"a": 2**70}, "world.a"),
        ({"a": "\ud800"}, "world.a"),
    ],
    ids=["int-key", "nan", "inf", "set", "huge-int", "lone-surrogate"],
)
def test_values_that_are_not_json_raise_bad_input_naming_the_path(bad, where):
    with pytest.raises(conjure.BadInputError) as info:
        conjure.validate(bad)
    assert info.value.code == "bad_input"
    assert str(info.value).startswith(where + ":")


def test_validate_accepts_world_dict_and_text(world_dict):
    for arg in (conjure.World.from_dict(world_dict), world_dict, json.dumps(world_dict), json.dumps(world_dict).encode()):
        result = conjure.validate(arg, plugins=False)
        assert result.ok
        assert result.resolved is not None


def test_validate_resolves_slots(world_dict):
    result = conjure.validate(world_dict, plugins=False)
    hall = result.resolved.states["hall"]["base"]
    assert "{house}" not in hall and "an old stone house on a hill" in hall


def test_validate_reports_dangling_reference(world_dict):
    world_dict["scene"]["events"][0]["to"] = "attic"
    result = conjure.validate(world_dict, plugins=False)
    assert not result.ok
    assert result.resolved is None
    lints = {d.lint for d in result.errors}
    assert "dangling-ref" in lints
    dangling = next(d for d in result.diagnostics if d.lint == "dangling-ref")
    assert isinstance(dangling, conjure.Diagnostic)
    assert "attic" in dangling.message


def test_validate_raise_on_error_raises_gate_error_with_diagnostics(world_dict):
    world_dict["entrance"]["state"] = "nowhere"
    with pytest.raises(conjure.GateError) as info:
        conjure.validate(world_dict, plugins=False, raise_on_error=True)
    assert info.value.code == "gate_failed"
    assert any(d.lint == "dangling-ref" for d in info.value.diagnostics)
    assert all(isinstance(d, conjure.Diagnostic) for d in info.value.diagnostics)


def test_lint_returns_advisory_findings_with_loc(lighthouse_path):
    diags = conjure.lint(conjure.World.from_file(lighthouse_path), plugins=False)
    lints = {d.lint for d in diags}
    assert {"negation", "whiteout", "intent", "budget", "unreachable"} <= lints
    assert not any(d.severity == "error" for d in diags)
    negation = next(d for d in diags if d.lint == "negation")
    assert negation.loc is not None and {"start", "end", "match"} <= set(negation.loc)


def test_clean_example_has_no_findings(abbey_path):
    diags = conjure.lint(conjure.World.from_file(abbey_path), plugins=False)
    assert [d for d in diags if d.severity != "info"] == []


def test_diagnostics_come_in_stable_order(lighthouse_path):
    diags = conjure.lint(conjure.World.from_file(lighthouse_path), plugins=False)
    keys = [d.path for d in diags]
    assert keys == sorted(keys)


def test_apply_ops_applies_and_gates_once(world_dict):
    result = conjure.apply_ops(
        world_dict,
        [
            {"op": "add_state", "id": "cellar", "base": "a damp cellar with wine racks along brick walls"},
            {"op": "delete_state", "id": "no-such-state"},
        ],
        plugins=False,
    )
    assert "cellar" in result.world.states
    assert len(result.apply_errors) == 1
    err = result.apply_errors[0]
    assert err["index"] == 1 and err["code"] == "not_found"
    assert isinstance(result.ok, bool)
    assert any(d.lint == "unreachable" and "cellar" in d.path for d in result.diagnostics)


def test_apply_ops_reports_gate_errors_without_raising(world_dict):
    result = conjure.apply_ops(
        world_dict,
        [{"op": "update_event", "name": "Open the garden door", "patch": {"to": "attic"}}],
        plugins=False,
    )
    assert result.apply_errors == []
    assert not result.ok
    assert any(d.lint == "dangling-ref" for d in result.diagnostics)


def test_malformed_ops_batch_raises_bad_input(world_dict):
    with pytest.raises(conjure.BadInputError):
        conjure.apply_ops(world_dict, [])
    with pytest.raises(conjure.BadInputError):
        conjure.apply_ops(world_dict, [{"op": "teleport"}])
    with pytest.raises(conjure.BadInputError):
        _core.check_ops([{"op": "add_state", "id": 5}])


def test_derive_state_id_is_fresh(world_dict):
    assert _core.derive_state_id(world_dict, "the hall again") not in world_dict["scene"]["states"]


def test_diff_lists_changes(world_dict):
    a = conjure.World.from_dict(world_dict)
    world_dict["scene"]["states"]["hall"]["base"] = "a bare hall, dust on the floorboards"
    world_dict["scene"]["states"]["attic"] = {"base": "an attic under the eaves, trunks and cobwebs"}
    d = conjure.diff(a, world_dict)
    assert d["states"]["added"] == ["attic"]
    assert d["states"]["removed"] == []
    assert d["states"]["changed"] == [{"id": "hall", "fields": ["base"]}]


def test_lint_catalogue_lists_every_lint():
    cat = conjure.lint_catalogue()
    ids = [c["id"] for c in cat]
    assert ids[0] == "schema"
    assert {"dangling-ref", "negation", "budget", "plugin-error"} <= set(ids)
    schema = cat[0]
    assert schema["severity"] == "error" and schema["structural"] is True and schema["description"]


def test_limits_are_configurable_and_compare():
    limits = conjure.Limits(max_states=3, budget_tokens=10)
    assert limits.max_states == 3 and limits.budget_tokens == 10
    limits.max_events = 7
    assert limits.max_events == 7
    assert conjure.Limits() == conjure.Limits()
    assert conjure.Limits(max_depth=5) != conjure.Limits()


def test_limits_apply_to_gate(world_dict):
    result = conjure.validate(world_dict, limits=conjure.Limits(max_states=1), plugins=False)
    assert not result.ok
    assert any(d.lint == "limit" for d in result.diagnostics)


def test_gate_result_exposes_resolved_json(world_dict):
    result = _core.gate(world_dict)
    assert result.ok
    assert json.loads(result.resolved_json) == result.resolved
    assert result.diagnostics == _core.gate(json.dumps(world_dict)).diagnostics


def test_parse_only_parses_and_discards(world_dict):
    assert _core.parse_only(json.dumps(world_dict)) is None
    with pytest.raises(conjure.ParseError):
        _core.parse_only("{")


def test_non_world_arguments_are_bad_input():
    with pytest.raises(conjure.BadInputError):
        conjure.validate(42)  # type: ignore[arg-type]
    with pytest.raises(conjure.BadInputError):
        _core.gate([1, 2])
    with pytest.raises(conjure.BadInputError):
        _core.gate({}, limits="big")


def test_every_core_error_code_has_an_exception_class():
    from conjure.errors import CLASS_BY_CODE

    assert set(_core.error_code_names()) == set(CLASS_BY_CODE)


def test_repr_html_draws_every_state_as_svg(abbey_path):
    world = conjure.World.from_file(abbey_path)
    html = world._repr_html_()
    assert html.startswith("<svg") and html.endswith("</svg>")
    for sid in world.states:
        assert f'data-state="{sid}"' in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "ending-win" in html and "ending-lose" in html  # win and lose endings marked


def test_repr_html_escapes_text(world_dict):
    world_dict["name"] = "<b>&evil</b>"
    world_dict["scene"]["states"]["a<b>"] = {"base": "x"}
    html = conjure.World.from_dict(world_dict)._repr_html_()
    assert "<b>" not in html
    assert "&lt;b&gt;&amp;evil&lt;/b&gt;" in html
    assert 'data-state="a&lt;b&gt;"' in html
