"""The world graph as a browser draws it (Debian's headless Chromium, driven by Selenium):
on the examples and on a 100-state world, no two text labels' rendered boxes overlap, every
label stays inside its box, and a screenshot of each is kept in build/artifacts/."""

from __future__ import annotations

import itertools
import pathlib
import sys
from typing import Any

import pytest

import conjure
from graph_worlds import big_world

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))  # the shared headless-Chromium helper
from chromium import chromium_driver  # noqa: E402

ARTIFACTS = ROOT / "build" / "artifacts"

_MEASURE = """
const rect = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
return Array.from(document.querySelectorAll('svg.conjure-world text.label')).map((t) => {
  const box = t.closest('g') ? t.closest('g').querySelector('rect') : null;
  return {text: t.textContent, box: rect(t), owner: box ? rect(box) : null};
});
"""


@pytest.fixture(scope="module")
def browser() -> Any:
    driver = chromium_driver("1400,1000")
    yield driver
    driver.quit()


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


@pytest.mark.parametrize("name", ["drowned-abbey", "flawed-lighthouse", "big-100"])
def test_rendered_labels_never_overlap_and_stay_in_their_boxes(name, browser, tmp_path):
    world = (conjure.World.from_dict(big_world(100)) if name == "big-100"
             else conjure.World.from_file(ROOT / "examples" / f"{name}.json"))
    page = tmp_path / f"{name}.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><body style='margin:0'>{world._repr_html_()}</body>",
                    encoding="utf-8")
    browser.get(page.as_uri())
    labels = browser.execute_script(_MEASURE)
    assert len(labels) >= len(world.states)
    clashes = [(a["text"], b["text"]) for a, b in itertools.combinations(labels, 2) if _overlap(a["box"], b["box"])]
    assert not clashes, clashes[:10]
    outside = [lab["text"] for lab in labels if lab["owner"] is not None and not (
        lab["box"][0] >= lab["owner"][0] - 0.5 and lab["box"][2] <= lab["owner"][2] + 0.5
        and lab["box"][1] >= lab["owner"][1] - 0.5 and lab["box"][3] <= lab["owner"][3] + 0.5)]
    assert not outside, outside[:10]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"graph-{name}.png"))  # natural size, from the top left
    browser.execute_script("const s = document.querySelector('svg'); s.style.width = '1400px'; s.style.height = 'auto';")
    browser.save_screenshot(str(ARTIFACTS / f"graph-{name}-whole.png"))  # scaled to the window's width
    assert (ARTIFACTS / f"graph-{name}.png").stat().st_size > 0
