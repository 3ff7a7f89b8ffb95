"""`conjure store migrate`: numbered migrations bring a PostgreSQL database to this build's schema, once."""

from __future__ import annotations

import threading

from conjure import _core
from conjure.cli import main


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_migrate_brings_a_fresh_database_to_the_latest_schema_then_reports_it_current(postgres_url, capsys):
    assert _core.postgres_schema_version(postgres_url) == 0
    code, text = _run(capsys, "store", "migrate", "--database-url", postgres_url)
    latest = _core.postgres_latest_version()
    assert code == 0, text
    assert f"migrated from schema version 0 to {latest}" in text
    assert _core.postgres_schema_version(postgres_url) == latest
    code, text = _run(capsys, "store", "migrate", "--database-url", postgres_url)
    assert code == 0 and f"schema version {latest}, up to date" in text


def test_migrate_reads_the_database_url_from_the_environment(postgres_url, monkeypatch, capsys):
    monkeypatch.setenv("CONJURE_DATABASE_URL", postgres_url)
    code, text = _run(capsys, "store", "migrate")
    assert code == 0 and "migrated" in text


def test_racing_migrators_apply_each_migration_once(postgres_url):
    results: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: results.append(_core.postgres_migrate(postgres_url))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["before"] != r["after"] for r in results) == 1


def test_migrate_without_a_database_or_with_another_scheme_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("CONJURE_DATABASE_URL", raising=False)
    code, text = _run(capsys, "store", "migrate")
    assert code == 2 and "CONJURE_DATABASE_URL" in text
    code, text = _run(capsys, "store", "migrate", "--database-url", "mysql://root@127.0.0.1/x")
    assert code == 2 and "postgresql://" in text


def test_an_unreachable_server_fails_without_showing_the_password(capsys):
    code, text = _run(capsys, "store", "migrate", "--database-url", "postgresql://ops:s3cretpass@127.0.0.1:1/conjure")
    assert code == 1
    assert "s3cretpass" not in text and "ops:***@127.0.0.1:1" in text


def test_the_password_is_redacted_in_both_url_forms():
    assert _core.redact_database_url("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert _core.redact_database_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert _core.redact_database_url("host=h password='x y' dbname=d") == "host=h password=*** dbname=d"
