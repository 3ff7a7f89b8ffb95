"""examples/notebooks/: committed without outputs, and each runs top to bottom (slow tier,
nbclient with this interpreter's ipykernel) producing what it is there to show."""

from __future__ import annotations

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == ["play", "plugin", "quickstart"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_with_outputs_stripped(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs (clear them before committing)"


def _outputs(nb) -> list[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(path, as_version=4)
    # run in the notebook's own folder, as a reader would (the example worlds are one up);
    # a failing cell raises CellExecutionError naming it
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {k for o in outputs for k in o.get("data", {})}
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    if path.stem == "quickstart":
        svgs = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})
                and o["data"]["text/html"].startswith("<svg")]
        assert len(svgs) >= 3 and "image/svg+xml" in kinds  # the world, after ops, after the English edit
        assert "^^" in "".join(str(o.get("data", {})) for o in outputs)  # carets under lint matches
        assert "Added state" in text  # the agent's reply
        assert any("<table>" in o["data"].get("text/html", "") for o in outputs if "data" in o)  # the diff
    elif path.stem == "play":
        assert sum(1 for o in outputs if "image/jpeg" in o.get("data", {})) >= 2
        assert "shore" in text
        assert any("conjure-trace" in o["data"].get("text/html", "") for o in outputs if "data" in o)
    else:
        assert "plugin.notebook.dark-places" not in text
        assert "image/svg+xml" in kinds and "no light source named" in str(outputs)
