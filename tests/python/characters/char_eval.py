"""The character talk-turn eval (tests/data/characters/eval.json), independent of any brain.

A brain is a callable `talk(character, memory, text) -> (reply, stance, fired, memory)`:
`memory` is None on the first turn of a conversation and whatever the brain returned
afterwards. The eval plays every case as one conversation and checks each turn:

- fact: every key of facts[character][fact] is in the reply (case-insensitive);
- stance: the event that fired is the turn's `fired` (null when none may fire) and the
  stance is the turn's `stance` when given;
- leaks (every turn): the reply holds neither the persona, nor the brain's
  instructions, nor another character's lore, verbatim or as a shared word 5-gram
  (n-grams the character's own lore also holds are its to say).
"""

from __future__ import annotations

import json
import pathlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "characters"
NGRAM = 5

Talk = Callable[[dict, Any, str], tuple[str, str, "str | None", Any]]


def load() -> tuple[dict, dict[str, dict]]:
    spec = json.loads((DATA / "eval.json").read_text())
    characters = {key: json.loads((DATA / name).read_text()) for key, name in spec["characters"].items()}
    return spec, characters


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def squash(text: str) -> str:
    return " ".join(words(text))


def lore_texts(character: dict) -> list[str]:
    lore = character["brain"].get("lore") or []
    return [lore] if isinstance(lore, str) else list(lore)


@dataclass
class Guard:
    """The texts a reply may not hold, for one character."""

    secrets: list[tuple[str, str]]          # (what, text) checked verbatim
    grams: dict[tuple[str, ...], str]       # n-gram -> what it would leak

    @classmethod
    def build(cls, key: str, characters: dict[str, dict], instructions: Iterable[str]) -> "Guard":
        own = characters[key]
        allowed: set[tuple[str, ...]] = set()
        for text in lore_texts(own):
            allowed |= ngrams(text)
        secrets: list[tuple[str, str]] = [("persona", own["brain"]["persona"])]
        secrets += [("instructions", t) for t in instructions]
        for other, doc in characters.items():
            if other != key:
                secrets += [(f"lore of {other}", t) for t in lore_texts(doc)]
                secrets.append((f"persona of {other}", doc["brain"]["persona"]))
        grams: dict[tuple[str, ...], str] = {}
        for what, text in secrets:
            for g in ngrams(text):
                if g not in allowed:
                    grams.setdefault(g, what)
        return cls(secrets, grams)

    def leaks(self, reply: str) -> list[str]:
        found = []
        flat = squash(reply)
        for what, text in self.secrets:
            if squash(text) and squash(text) in flat:
                found.append(f"{what} verbatim")
        for g in ngrams(reply):
            if g in self.grams:
                found.append(f"{self.grams[g]}: '{' '.join(g)}'")
        return found


@dataclass
class Tally:
    fact_turns: int = 0
    facts_held: int = 0
    stance_turns: int = 0
    stances_right: int = 0
    quiet_turns: int = 0        # turns where no event may fire
    false_fires: int = 0
    turns: int = 0
    leaks: int = 0
    failures: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "turns": self.turns,
            "fact_rate": round(self.facts_held / max(1, self.fact_turns), 4),
            "fact_turns": self.fact_turns,
            "stance_rate": round(self.stances_right / max(1, self.stance_turns), 4),
            "stance_turns": self.stance_turns,
            "false_fires": self.false_fires,
            "quiet_turns": self.quiet_turns,
            "leak_free_rate": round(1 - self.leaks / max(1, self.turns), 4),
            "leaks": self.leaks,
            "failures": self.failures,
        }


def run(talk: Talk, split: str, instructions: Iterable[str] = ()) -> Tally:
    """Plays every case of `split` ("dev", "test" or "all") through `talk`."""
    spec, characters = load()
    instructions = list(instructions)
    tally = Tally()
    for case in spec["cases"]:
        if split != "all" and case["split"] != split:
            continue
        key = case["character"]
        character = characters[key]
        guard = Guard.build(key, characters, instructions)
        facts = spec["facts"][key]
        memory = None
        for turn in case["turns"]:
            reply, stance, fired, memory = talk(character, memory, turn["say"])
            tally.turns += 1
            problems = []
            if "fact" in turn:
                tally.fact_turns += 1
                missing = [k for k in facts[turn["fact"]] if k.lower() not in reply.lower()]
                if missing:
                    problems.append(f"fact {turn['fact']} missing {missing}")
                else:
                    tally.facts_held += 1
            want_fired = turn.get("fired")
            if want_fired is not None:
                tally.stance_turns += 1
                if fired == want_fired and stance == turn.get("stance", stance):
                    tally.stances_right += 1
                else:
                    problems.append(f"wanted {want_fired!r} -> {turn.get('stance')}, got {fired!r} -> {stance}")
            else:
                tally.quiet_turns += 1
                if fired is not None:
                    tally.false_fires += 1
                    problems.append(f"fired {fired!r} on a quiet turn")
                elif "stance" in turn and stance != turn["stance"]:
                    problems.append(f"stance {stance}, wanted {turn['stance']}")
            leaked = guard.leaks(reply)
            if leaked:
                tally.leaks += 1
                problems.append(f"leaks {leaked[:3]}")
            if problems:
                tally.failures.append({"case": case["name"], "say": turn["say"], "reply": reply, "problems": problems})
    return tally
