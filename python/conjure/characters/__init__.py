"""Characters: stance graphs with a brain (persona, lore) and a voice.

`talk(character, memory, text)` plays one talk turn with the offline brain;
`retrieval_mode()` says whether it retrieves lore with the sentence encoder or
lexically. The voice lives in `conjure.characters.voice` (GPL-3 engines, run in
worker processes only).
"""

from conjure.characters.brain import MAX_TEXT, SYSTEM_PROMPT, Turn, retrieval_mode, split_lore, talk

__all__ = ["MAX_TEXT", "SYSTEM_PROMPT", "Turn", "retrieval_mode", "split_lore", "talk"]
