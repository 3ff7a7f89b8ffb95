"""The demo page in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

Opens /play/{worldId}#token=st_… on a real server, sees frames drawn on the
canvas, presses a hotkey, sees the state change, plays to the ending and saves
a screenshot to build/artifacts/play-browser.png.
"""

from __future__ import annotations

import pathlib
import time
from typing import Any, Callable

import pytest

from chromium import chromium_driver
from e2e_servers import ROOT, Server, start_server
from test_play import abbey_tenant, mint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "build" / "artifacts"


def _driver() -> Any:
    return chromium_driver()


def _until(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_demo_page_draws_frames_takes_hotkeys_and_reaches_the_ending(tmp_path: pathlib.Path,
                                                                         servers: list[Server]) -> None:
    driver = _driver()
    try:
        server = start_server("conjure-serve", tmp_path, runtime_fps="15")
        servers.append(server)
        tenant = abbey_tenant(server)
        token = mint(server, tenant, "browser-player")
        driver.get(f"{server.base_url}/play/{tenant['world']}#token={token}")
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By

        # Frames are drawn on the canvas: the frame counter moves and the canvas has non-black pixels.
        _until(lambda: int(driver.find_element(By.ID, "status").get_attribute("data-frames") or 0) >= 3, "frames")
        lit = driver.execute_script("""
            const c = document.querySelector('#stage canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let lit = 0; for (let i = 0; i < d.length; i += 4 * 97) if (d[i] + d[i+1] + d[i+2] > 60) lit++;
            return [c.width, c.height, lit];""")
        assert lit[0] == 640 and lit[1] == 360 and lit[2] > 100, lit
        assert driver.find_element(By.ID, "state").get_attribute("data-state") == "courtyard"
        buttons = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#events button")]
        assert any("Take the lantern" in b for b in buttons), buttons

        canvas = driver.find_element(By.CSS_SELECTOR, "#stage canvas")
        canvas.click()

        def press(key: str) -> None:
            ActionChains(driver).send_keys(key).perform()

        # A hotkey changes the state: the lantern's flag appears.
        press("e")
        _until(lambda: "lantern" in driver.find_element(By.ID, "flags").text, "the lantern flag after E")
        press("f")
        _until(lambda: driver.find_element(By.ID, "state").get_attribute("data-state") == "cellar", "the cellar")
        # A button fires an event too.
        _until(lambda: driver.find_elements(By.CSS_SELECTOR, "#events button[data-event='Pick up the iron key']"),
               "the iron key's button")
        driver.find_element(By.CSS_SELECTOR, "#events button[data-event='Pick up the iron key']").click()
        _until(lambda: "iron_key" in driver.find_element(By.ID, "flags").text, "the iron key flag")
        press("u")
        _until(lambda: driver.find_element(By.ID, "state").get_attribute("data-state") == "crypt", "the crypt")
        press("t")
        _until(lambda: driver.find_element(By.ID, "ending").get_attribute("data-kind") == "win", "the ending")
        assert "The far shore" in driver.find_element(By.CSS_SELECTOR, "#ending h2").text
        time.sleep(0.3)  # let the ending's frame be drawn for the screenshot
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "play-browser.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()
