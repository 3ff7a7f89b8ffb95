"""The `conjure` command: exit codes, text and JSON output, carets, stdin."""

from __future__ import annotations

import pathlib
import io
import json
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
from conjure import __version__
from conjure.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_clean_world_exits_zero(abbey_path, capsys):
    code, out, _ = run(["validate", str(abbey_path)], capsys)
    assert code == 0
    assert "drowned-abbey.json" in out and "ok" in out
    assert "clean" in out


def test_lint_advisory_findings_exit_zero_and_show_carets(lighthouse_path, capsys):
    code, out, _ = run(["lint", "--no-plugins", str(lighthouse_path)], capsys)
    assert code == 0
    for lint in ("negation", "whiteout", "intent", "budget", "unreachable"):
        assert lint in out
    assert "WARNING" in out
    lines = out.splitlines()
    # the line under a quoted field has carets exactly under the match
    i = next(i for i, line in enumerate(lines) if "negation" in line)
    quoted = next(line for line in lines[i:] if "\u2502" in line and "^" not in line)
    carets = lines[lines.index(quoted) + 1]
    start, end = carets.index("^"), carets.rindex("^") + 1
    assert quoted[start:end].lower() == "no"
    assert "\x1b[" not in out  # not a TTY: no colour


def test_strict_makes_warnings_fail(lighthouse_path, capsys):
    code, _, _ = run(["lint", "--strict", "--no-plugins", str(lighthouse_path)], capsys)
    assert code == 1


def test_error_findings_exit_one(tmp_path, world_dict, capsys):
    world_dict["entrance"]["state"] = "nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(world_dict))
    code, out, _ = run(["validate", str(path)], capsys)
    assert code == 1
    assert "dangling-ref" in out and "ERROR" in out and "refused" in out


def test_missing_file_exits_two(tmp_path, capsys):
    code, out, _ = run(["validate", str(tmp_path / "absent.json")], capsys)
    assert code == 2
    assert "unusable" in out


def test_invalid_json_exits_two_with_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "name": }')
    code, out, _ = run(["lint", str(path)], capsys)
    assert code == 2
    assert "line 2, column 11" in out


def test_worst_file_decides_exit_code(abbey_path, tmp_path, capsys):
    code, _, _ = run(["validate", str(abbey_path), str(tmp_path / "absent.json")], capsys)
    assert code == 2


def test_json_output_is_one_document(lighthouse_path, abbey_path, capsys):
    code, out, _ = run(["lint", "--json", "--no-plugins", str(lighthouse_path), str(abbey_path)], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["exitCode"] == 0
    assert [f["file"] for f in doc["files"]] == [str(lighthouse_path), str(abbey_path)]
    lints = {d["lint"] for d in doc["files"][0]["diagnostics"]}
    assert "negation" in lints
    assert doc["summary"]["files"] == 2 and doc["summary"]["warning"] >= 5


def test_json_output_reports_unusable_input(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("[")
    code, out, _ = run(["validate", "--json", str(path)], capsys)
    doc = json.loads(out)
    assert code == 2 and doc["files"][0]["problem"]["code"] == "parse_error"


def test_dash_reads_stdin(world_dict, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(world_dict).encode())))
    code, out, _ = run(["validate", "-"], capsys)
    assert code == 0 and "<stdin>" in out


def test_over_limit_document_exits_two(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 1000 + "]" * 1000)
    code, out, _ = run(["validate", str(path)], capsys)
    assert code == 2 and "limit" in out


def test_version_subcommand(capsys):
    code, out, _ = run(["version"], capsys)
    assert code == 0 and out.strip() == f"conjure {__version__}"


def test_no_subcommand_is_usage_error(capsys):
    code, _, err = run([], capsys)
    assert code == 2 and "usage" in err


def test_slot_lint_underlines_the_slot(tmp_path, world_dict, capsys):
    world_dict["scene"]["states"]["hall"]["base"] = "the hall of {mansion}, dark panels"
    path = tmp_path / "slot.json"
    path.write_text(json.dumps(world_dict))
    code, out, _ = run(["validate", str(path)], capsys)
    assert code == 1 and "slot-undefined" in out
    lines = out.splitlines()
    quoted = next(line for line in lines if "{mansion}" in line and "\u2502" in line)
    carets = lines[lines.index(quoted) + 1]
    assert quoted[carets.index("^"): carets.rindex("^") + 1] == "{mansion}"


def test_command_runs_as_a_subprocess(lighthouse_path):
    proc = subprocess.run(
        [sys.executable, "-m", "conjure.cli", "lint", "--json", str(lighthouse_path)],
        capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0]["file"] == str(lighthouse_path)


def test_store_check_opens_a_store_whose_secret_is_given_in_the_environment(tmp_path, monkeypatch, capsys):
    from conjure.store import Store

    path = tmp_path / "deployed.db"
    with Store(str(path), server_secret="a" * 64):  # a deployment's store: the secret lives in the env
        pass
    monkeypatch.setenv("CONJURE_SECRET", "a" * 64)
    assert main(["store", "check", "--store", str(path)]) == 0, capsys.readouterr().out
