"""Talking to a character in the embed, in a real headless Chromium: the talk box appears where the
world places the character, the reply shows, the stance changes, and the reply's audio loads."""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any, Callable

import pytest

from chromium import chromium_driver
from e2e_servers import ROOT, Server, start_server
from test_play import abbey_tenant, mint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEEPER = ROOT / "tests" / "data" / "characters" / "keeper.json"


def _until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_talk_box_talks_to_a_placed_character_and_plays_its_voice(tmp_path: pathlib.Path,
                                                                      servers: list[Server]) -> None:
    server = start_server("conjure-serve", tmp_path, runtime_fps="10")
    servers.append(server)
    tenant = abbey_tenant(server)
    keeper = json.loads(KEEPER.read_text())
    keeper["brain"]["voice"] = {"engine": "espeak-ng", "name": "en-gb", "rate": 1.0}
    with server.client() as http:
        r = http.post("/v1/characters", json={"character": keeper}, headers=tenant["sk"])
        assert r.status_code == 201, r.text
        cid = r.json()["character"]["id"]
        r = http.patch(f"/v1/worlds/{tenant['world']}", json={"characters": [{"id": cid, "states": ["courtyard"]}]},
                       headers=tenant["sk"])
        assert r.status_code == 200, r.text
    token = mint(server, tenant, "talker")
    driver = chromium_driver()
    try:
        from selenium.webdriver.common.by import By

        driver.get(f"{server.base_url}/play/{tenant['world']}#token={token}")
        box = _until(lambda: [b for b in driver.find_elements(By.CSS_SELECTOR, "form.conjure-talk") if b.is_displayed()],
                     "the talk box")[0]
        assert "Maren Holt" in box.find_element(By.CSS_SELECTOR, "select").text
        assert "wary" in box.find_element(By.CSS_SELECTOR, ".conjure-talk-stance").text
        box.find_element(By.CSS_SELECTOR, ".conjure-talk-text").send_keys("Thank you for the shelter, let me help you.")
        box.find_element(By.CSS_SELECTOR, "button").click()
        _until(lambda: "friendly" in box.find_element(By.CSS_SELECTOR, ".conjure-talk-stance").text, "the stance change")
        log = box.find_element(By.CSS_SELECTOR, ".conjure-talk-log").text
        assert "Maren Holt:" in log, log
        try:
            duration = _until(lambda: driver.execute_script(
                "const a = document.querySelector('audio.conjure-voice'); return a && a.duration > 0 ? a.duration : 0;"),
                "the reply's audio", 90)
        except AssertionError:
            raise AssertionError(str(driver.execute_script(
                "const a = document.querySelector('audio.conjure-voice'); return [a.src, a.readyState, a.networkState, "
                "a.error && a.error.code, a.error && a.error.message, a.duration];")))
        assert duration > 0.3
    finally:
        driver.quit()
