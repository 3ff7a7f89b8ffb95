"""Debian's headless Chromium driven by Selenium, for the tests that look at a page."""

from __future__ import annotations

import os
import pathlib
import shutil
from typing import Any

import pytest

CHROMIUM = pathlib.Path("/usr/bin/chromium")


def chromium_driver(window: str = "1280,860") -> Any:
    """A headless Chromium WebDriver (the caller quits it); skips when Chromium, its driver or
    Selenium is missing, naming what to install."""
    if not CHROMIUM.is_file():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not os.path.isfile(driver_path):
        pytest.skip("no chromedriver (apt-get install -y chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                f"--window-size={window}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver_path), options=options)
