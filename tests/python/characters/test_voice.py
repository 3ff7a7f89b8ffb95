"""The voice: WAV from espeak-ng (fast tier) and Piper (slow tier), rate and pitch, a bounded pool."""

from __future__ import annotations

import pytest

from conjure.characters import voice
from conjure.characters.voice import VoiceBusy, VoicePool, VoiceSpec, wav_seconds

needs_espeak = pytest.mark.skipif(not voice.espeak_installed(), reason="Debian's espeak-ng is not installed")
needs_piper = pytest.mark.skipif(not voice.piper_installed(), reason="the voice extra (piper-tts) is not installed")
LINE = "The lamp burns paraffin, and I carry the cans up every evening."


def test_spec_reads_the_brain_and_clamps_what_the_gate_would_refuse():
    spec = VoiceSpec.of({"brain": {"voice": {"engine": "espeak-ng", "name": "en-gb", "rate": 9, "pitch": -1}}})
    assert spec == VoiceSpec("espeak-ng", "en-gb", 2.0, 0.0)
    assert VoiceSpec.of({"brain": {}}) == VoiceSpec("piper", "en_US-joe-medium", 1.0, 0.5)


@needs_espeak
def test_espeak_ng_writes_a_wav_with_real_sizes_and_honours_rate_and_pitch():
    slow = voice.synthesize(LINE, VoiceSpec("espeak-ng", "en-us", 0.5))
    fast = voice.synthesize(LINE, VoiceSpec("espeak-ng", "en-us", 2.0))
    assert slow[:4] == b"RIFF" and slow[8:12] == b"WAVE"
    assert int.from_bytes(slow[4:8], "little") == len(slow) - 8
    assert 2.5 * wav_seconds(fast) < wav_seconds(slow) < 60
    low = voice.synthesize(LINE, VoiceSpec("espeak-ng", "en-us", 1.0, 0.0))
    high = voice.synthesize(LINE, VoiceSpec("espeak-ng", "en-us", 1.0, 1.0))
    assert low != high


@needs_espeak
def test_a_full_pool_refuses_at_once_and_frees_its_slots_when_work_ends():
    pool = VoicePool(workers=1, queue=1, warm=False)
    try:
        spec = VoiceSpec("espeak-ng", "en-us")
        first = [pool.submit(LINE, spec) for _ in range(2)]
        with pytest.raises(VoiceBusy):
            pool.submit(LINE, spec)
        for f in first:
            assert f.result(timeout=120)[:4] == b"RIFF"
        assert pool.submit("Again.", spec).result(timeout=120)[:4] == b"RIFF"
    finally:
        pool.close()


@pytest.mark.slow
@needs_piper
def test_piper_speaks_a_neural_wav_and_rate_changes_its_length():
    normal = voice.synthesize(LINE, VoiceSpec("piper", "en_US-joe-medium", 1.0))
    quick = voice.synthesize(LINE, VoiceSpec("piper", "en_US-joe-medium", 2.0))
    assert normal[:4] == b"RIFF" and 1.0 < wav_seconds(normal) < 20
    assert wav_seconds(quick) < 0.75 * wav_seconds(normal)
