"""API-key checks on the fast read path: revocation from anywhere is seen at once."""

from __future__ import annotations

from server_helpers import client, import_world, settings, tenant  # noqa: F401  (pytest fixtures)

import conjure
from conjure.server.deps import STAMP_QUIET_S, KeyStamps


def test_a_key_revoked_by_another_store_handle_fails_on_the_next_graph_read(client, tenant, settings):
    world_id = import_world(client, tenant)["world"]["id"]
    sk = tenant.auth("sk_test")
    assert client.get(f"/v1/worlds/{world_id}/graph", headers=sk).status_code == 200
    assert client.get(f"/v1/worlds/{world_id}/graph", headers=sk).status_code == 200  # now on the quiet path
    # Another process revokes the key through its own handle on the same file.
    other = conjure.Store(str(settings.database_path))
    try:
        other.revoke_key(tenant.app_id, tenant.key_ids["sk_test"])
    finally:
        other.close()
    r = client.get(f"/v1/worlds/{world_id}/graph", headers=sk)
    assert r.status_code == 401 and r.json()["code"] == "invalid_credential"


def test_key_stamps_send_a_key_to_the_event_loop_only_while_its_stamp_is_recent():
    now = [1_000_000.0]
    stamps = KeyStamps(clock=lambda: now[0])
    digest = KeyStamps.digest("sk_test_example")
    assert not stamps.read_only(digest)  # never seen: the threadpool
    stamps.seen(digest, "1970-01-12T13:46:40Z")  # = 1,000,000 s
    assert stamps.read_only(digest)
    now[0] += STAMP_QUIET_S + 1
    assert not stamps.read_only(digest)  # the store will stamp again: a write


def test_key_stamps_are_bounded_and_never_hold_the_key():
    stamps = KeyStamps(max_keys=3, clock=lambda: 0.0)
    for i in range(10):
        stamps.seen(KeyStamps.digest(f"sk_test_{i}"), "1970-01-01T00:00:10Z")
    assert len(stamps._quiet_until) <= 3
    assert all(isinstance(k, bytes) and len(k) == 32 for k in stamps._quiet_until)
