"""The agent: natural-language edits and world generation, independent of HTTP.

>>> import conjure
>>> from conjure.agent import edit
>>> world = conjure.World.from_file("examples/drowned-abbey.json")      # doctest: +SKIP
>>> out = edit(world, "add a flooded crypt below the chapel")          # doctest: +SKIP
>>> out.reply                                                           # doctest: +SKIP

Providers: :class:`OfflineProvider` (built in, deterministic, no network) and
:class:`OpenAICompatibleProvider` (any chat-completions endpoint). The grammar the
offline provider understands is documented in docs/agent.md.
"""

from conjure.agent.edit import EditOutcome, edit, summarize
from conjure.agent.generate import GenerationError, generate
from conjure.agent.providers import (
    EditRequest,
    OfflineProvider,
    OpenAICompatibleProvider,
    Proposal,
    Provider,
    ProviderError,
    parse_reply,
)

__all__ = [
    "edit",
    "EditOutcome",
    "summarize",
    "generate",
    "GenerationError",
    "Provider",
    "Proposal",
    "EditRequest",
    "ProviderError",
    "OfflineProvider",
    "OpenAICompatibleProvider",
    "parse_reply",
]
