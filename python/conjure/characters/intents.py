"""What a player's words do to a character, by meaning: a small registry of intents.

A stance event's `base` prose is its trigger ("the player threatens the keeper or
insults her"). The brain reads which intents a trigger names (the `names` words of
each intent) and which intents the player's words carry (the `cues`: stems and short
phrases of the ways people say it). An event fires when the player's words carry an
intent its trigger names. With the sentence encoder the cues are also exemplar
sentences, compared by cosine, so wording that shares no cue still matches.

The lists are general English, not the eval's phrasing: they were written from the
intents, then checked against the dev split only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INTENTS: dict[str, "Intent"] = {}


@dataclass(frozen=True)
class Intent:
    name: str
    names: tuple[str, ...]       # stems that name the intent in a trigger's prose
    cues: tuple[str, ...]        # stems or phrases (space separated stems) in a player's words
    examples: tuple[str, ...]    # sentences a player might say (for the encoder)


def intent(name: str, *, names: str, cues: str, examples: tuple[str, ...]) -> None:
    INTENTS[name] = Intent(name, tuple(names.split()), tuple(c.strip() for c in cues.split(",") if c.strip()), examples)


intent(
    "threat",
    names="threat threaten menac intimid attack hurt harm draw weapon",
    cues="kill, hurt, break your, cut you, stab, shoot, burn, smash, beat, you'll regret, you will regret, or else, "
    "or i'll, or i will, i'll make you, punch, strangl, throat, blood, dead, die, gut you, slit, torch, wreck",
    examples=(
        "Do what I say or I'll hurt you.",
        "I'm going to kill you.",
        "Give it to me or you'll regret it.",
        "I will burn this place to the ground.",
    ),
)
intent(
    "insult",
    names="insult mock rude offend abus",
    cues="stupid, idiot, fool, useless, ugly, hag, pathetic, worthless, dump, shut up, moron, coward, liar, "
    "disgust, old bat, hate you, dim, halfwit",
    examples=("You're a stupid old fool.", "This place is a filthy dump.", "Shut up, you useless idiot."),
)
intent(
    "kindness",
    names="kind thank help gift compliment friend warm",
    cues="thank, grateful, appreciat, kind of you, help you, let me help, i can help, lend a hand, carry, "
    "brought you, a gift, for you, present, lovely, wonderful, admire, i'll help, bread, tea",
    examples=(
        "Thank you so much for your help.",
        "Let me help you with that.",
        "I brought you something from the village.",
        "You've been very kind to me.",
    ),
)
intent(
    "apology",
    names="apolog sorry forgiv back calm lower",
    cues="sorry, apolog, forgive, my fault, didn't mean, did not mean, shouldn't have, should not have, "
    "pardon, i was wrong, back off, backing off, calm down, put away, putting away, lower, lowering, "
    "leave you be, out of line, no harm meant, regret that",
    examples=("I'm sorry, I didn't mean it.", "Please forgive me.", "I was wrong, I'll back off."),
)
intent(
    "payment",
    names="money bribe pay coin share cargo offer gold",
    cues="pay, paid, coin, gold, silver, guinea, money, purse, bribe, reward, share of, a cut, price, "
    "make it worth, shilling, pound, crown, here's, take this",
    examples=("I'll pay you well for it.", "Take this gold.", "Here's a purse of coins for your trouble."),
)
intent(
    "donation",
    names="donat gift alms tith offer",
    cues="donat, alms, for the abbey, for the church, for the poor, coin, silver, gold, give to, offering, tithe, "
    "for your roof, for the roof",
    examples=("Here is a donation for the abbey.", "Take these coins for the poor."),
)
intent(
    "prayer",
    names="pray prayer faith worship",
    cues="pray, prayer, bless, amen, god, lord, faith, worship, kneel",
    examples=("Let us pray together.", "May God bless you, brother."),
)
intent(
    "theft",
    names="steal theft thief rob take pilfer",
    cues="steal, stole, pocket, swipe, nick, pinch, slip this, slip it, into my bag, in my bag, take it, "
    "nobody will notice, no one will notice, won't notice, rob, loot, grab",
    examples=("I'll just take this, nobody will notice.", "I'm going to steal that book."),
)
intent(
    "intrusion",
    names="vault forbidden secret access enter into",
    cues="let me in, into the vault, let me into, open the vault, see the relic, hold the relic, the key to, "
    "show me the vault, behind the door, get in, break in, sneak in",
    examples=("Let me into the vault.", "Can I see the forbidden relics?", "Open that door for me."),
)
intent(
    "inform",
    names="inform report betray tell revenue customs guard authorit",
    cues="tell the, report you, inform, customs, excise, revenue, the guard, the law, constable, magistrate, "
    "turn you in, hang for, the navy, soldiers",
    examples=("I'll report you to the authorities.", "I'm going to tell the customs men about you."),
)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def stem(word: str) -> str:
    """A light suffix stripper: 'threatens' -> 'threaten', 'supplies' -> 'suppli'."""
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ingly", "edly", "ies", "ied", "ing", "ness", "ment", "ers", "ed", "es", "er", "ly", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if suffix in ("ies", "ied"):
                w += "i"
            break
    return w


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _phrase_in(phrase: str, padded: str) -> bool:
    """A cue phrase in the player's text: whole words, the last one as a prefix (a stem)."""
    return re.search(r"(?<![a-z0-9'])" + re.escape(phrase), padded) is not None


def named_intents(trigger: str) -> set[str]:
    """The intents a trigger's prose names ('the player threatens the keeper' -> {'threat'})."""
    stems = [stem(w) for w in words(trigger)]
    found = set()
    for it in INTENTS.values():
        if any(s.startswith(n) for s in stems for n in it.names):
            found.add(it.name)
    return found


def carried_intents(text: str) -> dict[str, int]:
    """The intents a player's words carry, with how many cues of each they hold."""
    padded = " " + " ".join(words(text)) + " "
    out: dict[str, int] = {}
    for it in INTENTS.values():
        n = sum(1 for cue in it.cues if _phrase_in(cue, padded))
        if n:
            out[it.name] = n
    return out
