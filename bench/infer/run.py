"""Encoder throughput: conjure.embed (C++ over libtorch) against the Python reference.

Both run in this one process on the same libtorch (the C++ module links the libtorch inside
the torch wheel that the reference imports) with the same intra-op thread count, on the same
sentences, at batch 1 and batch 32. Rounds alternate between the two so that load on a shared
machine falls on both alike; the figure is the median round. It also checks that the two agree
(cosine >= 0.999 on every sentence) and exits 1 otherwise.

    .venv/bin/python bench/infer/run.py            # full run, writes bench/results/infer_encoder.json
    .venv/bin/python bench/infer/run.py --quick    # a few seconds, no file

Needs the reference's packages, which bring no torch of their own:
    .venv/bin/pip install transformers tokenizers
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))


def sentences(limit: int) -> list[str]:
    """The parity fixture texts (varied lengths and scripts), less the 2,000-word one."""
    rows = (ROOT / "tests" / "data" / "infer" / "minilm_cases.jsonl").read_text(encoding="utf-8").split("\n")
    texts = [json.loads(r)["text"] for r in rows if r]
    texts = [t for t in texts if len(t) < 2000]
    return texts[:limit]


def rate(fn, texts: list[str], batch: int) -> float:
    """Sentences per second for embedding texts in batches of `batch`."""
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        fn(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - start)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run, no results file")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (default: torch's default)")
    args = ap.parse_args()
    try:
        from reference import Reference
    except ImportError as exc:  # pragma: no cover - a setup problem, reported plainly
        print(f"the reference needs transformers: .venv/bin/pip install transformers tokenizers ({exc})")
        return 2
    import numpy as np
    import torch

    import conjure
    from conjure import infer

    if not infer.available():
        print(f"inference unavailable: {infer.status()['reason']}")
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    ref = Reference()
    texts = sentences(40 if args.quick else 320)
    rounds = 1 if args.quick else args.rounds

    ours = conjure.embed(texts)
    theirs = np.concatenate([ref.embed(texts[i : i + 32]) for i in range(0, len(texts), 32)])
    worst = float((ours * theirs).sum(axis=1).min())
    if infer._load().info()["intra_op_threads"] != threads:
        print("the C++ module and torch disagree on the thread count: not the same libtorch")
        return 1

    results = {}
    for batch in (1, 32):
        cpp, py = [], []
        for _ in range(rounds):
            cpp.append(rate(conjure.embed, texts, batch))
            py.append(rate(ref.embed, texts, batch))
        c, p = statistics.median(cpp), statistics.median(py)
        results[f"batch_{batch}"] = {"cpp_sentences_per_s": round(c, 1), "python_sentences_per_s": round(p, 1),
                                     "ratio": round(c / p, 2)}
        print(f"batch {batch:>2}: C++ {c:8.1f} sentences/s   Python reference {p:8.1f} sentences/s   ratio {c / p:.2f}x")
    print(f"{len(texts)} sentences, {rounds} rounds, {threads} intra-op threads, torch {torch.__version__}; "
          f"lowest cosine C++ vs reference {worst:.7f}")
    if worst < 0.999:
        print("the C++ encoder and the reference disagree")
        return 1
    if not args.quick:
        out = {"torch": torch.__version__, "threads": threads, "sentences": len(texts), "rounds": rounds,
               "lowest_cosine": worst, **results}
        (ROOT / "bench" / "results" / "infer_encoder.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
