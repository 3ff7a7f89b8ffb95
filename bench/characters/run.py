"""Character figures in one run: the talk eval (dev and held-out test), /say latency, TTS speed.

    python bench/characters/run.py [--out bench/results/characters.json] [--http]

- eval: tests/data/characters/eval.json through the offline brain, both splits
  (fact rate, stance rate, false fires, leak-free rate), and which retrieval ran;
- say: p50 / p99 of one talk turn over the eval's turns, in-process (the brain) and,
  with --http, through `POST /v1/characters/{id}/say` on an in-process server;
- tts: real-time factor (audio seconds per compute second) of Piper and espeak-ng side
  by side on the same lines, after one warm-up each, one process, no pool.
Targets (issue 12): fact and stance rates >= 90 %, 100 % leak-free, say p50 <= 30 ms,
Piper >= 3x real time on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "python" / "characters"))

import char_eval  # noqa: E402
from conjure.characters import SYSTEM_PROMPT, retrieval_mode, talk  # noqa: E402
from conjure.characters import voice  # noqa: E402

LINES = [
    "I have kept the Gull Rock light for twelve winters, since my father's knees gave out.",
    "The supply boat from Carrow harbour comes on the first Tuesday of each month, when the sea allows.",
    "Threaten me again and you'll regret it. Now get off my rock.",
    "Saint Ives abbey was founded in 1132 by monks who crossed the marsh from Ely.",
    "Coin talks. We run French brandy and lace across the channel on moonless nights.",
]


def _talk(character, memory, text):
    t = talk(character, memory, text)
    return t.reply, t.stance, t.fired, t.memory


def bench_eval() -> dict:
    out = {"retrieval": retrieval_mode()}
    for split in ("dev", "test"):
        d = char_eval.run(_talk, split, [SYSTEM_PROMPT]).as_dict()
        d["failures"] = len(d["failures"])
        out[split] = d
    return out


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def bench_say(rounds: int = 5) -> dict:
    spec, characters = char_eval.load()
    times = []
    for _ in range(rounds):
        for case in spec["cases"]:
            memory = None
            for turn in case["turns"]:
                t0 = time.perf_counter()
                memory = talk(characters[case["character"]], memory, turn["say"]).memory
                times.append((time.perf_counter() - t0) * 1000)
    return {"turns": len(times), "p50_ms": round(_pct(times, 50), 3), "p99_ms": round(_pct(times, 99), 3)}


def bench_tts() -> dict:
    out = {}
    for engine, name in (("piper", "en_US-joe-medium"), ("espeak-ng", "en-us")):
        if not voice.engines_available()[engine]:
            out[engine] = {"skipped": "not installed"}
            continue
        spec = voice.VoiceSpec(engine, name)
        voice.synthesize("Warm up.", spec)
        audio = compute = 0.0
        for line in LINES:
            t0 = time.perf_counter()
            wav = voice.synthesize(line, spec)
            compute += time.perf_counter() - t0
            audio += voice.wav_seconds(wav)
        out[engine] = {"audio_s": round(audio, 2), "compute_s": round(compute, 3),
                       "realtime_factor": round(audio / compute, 2)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "characters.json"))
    args = parser.parse_args()
    report = {"eval": bench_eval(), "say_brain": bench_say(), "tts": bench_tts()}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    e = report["eval"]
    for split in ("dev", "test"):
        s = e[split]
        print(f"eval {split} ({e['retrieval']}): facts {s['fact_rate']:.1%} of {s['fact_turns']}, "
              f"stances {s['stance_rate']:.1%} of {s['stance_turns']}, false fires {s['false_fires']}, "
              f"leak-free {s['leak_free_rate']:.1%} of {s['turns']}")
    s = report["say_brain"]
    print(f"say (brain, in-process): p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms over {s['turns']} turns")
    for engine, t in report["tts"].items():
        print(f"tts {engine}: " + (f"{t['realtime_factor']}x real time ({t['audio_s']} s audio in {t['compute_s']} s)"
                                   if "realtime_factor" in t else t["skipped"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
