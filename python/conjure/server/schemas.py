"""Request and response bodies, named as the seed's OpenAPI fragment names them.

Request models are validated at runtime (strict types: a wrong type is a 400).
World documents, states, events and ops are checked by the core and its gate, not
here, so that every world error comes back as the gate's diagnostics; their
schemas (SMWorld, SMState, SMEvent, GraphOp) document them. Response models only
document: handlers build their JSON themselves.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema

REF_MARK = "x-conjure-ref"
SV = Field(default="1.0", examples=["1.0"], description="always \"1.0\"")


def ref(name: str) -> WithJsonSchema:
    """A stand-in schema that the OpenAPI builder replaces with a ``$ref`` to a seed schema."""
    return WithJsonSchema({REF_MARK: name})


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------- seed schemas
class SMLayerPair(_Open):
    """A static/dynamic prompt pair: the held layer and the moving layer (pixel prose)."""

    static: str | None = None
    dynamic: str | None = None


class SMEnding(_Open):
    kind: Literal["win", "lose"]
    title: str
    subtitle: str | None = None


class SMState(_Open):
    """A node of the graph; optional fields beyond those listed are kept."""

    base: str | None = None
    camera: SMLayerPair | None = None
    movement: SMLayerPair | None = None
    ambient: list[str] | None = None
    ending: SMEnding | None = None
    variants: list[dict[str, Any]] | None = None


class SMEvent(_Open):
    """An edge, addressed by its unique ``name``; a transition carries ``to``, an override never."""

    name: str
    kind: Literal["transition", "override", "terminal"]
    from_: list[str] = Field(alias="from")
    to: str | None = None
    base: str | None = None
    detail: str | None = None
    hotkey: str | None = None
    hidden: bool | None = None
    oneShot: bool | None = None
    requires: list[str] | None = None
    grants: list[str] | None = None


class SMImage(_Open):
    src: str
    label: str | None = None


class SMEntrance(_Open):
    state: str
    image: SMImage | None = None


class SMScene(_Open):
    slots: dict[str, str] | None = None
    states: dict[str, SMState]
    events: list[SMEvent]


class SMWorld(_Open):
    """A playable world (SMWorld 1.0); unknown properties are kept verbatim."""

    schemaVersion: str | None = "1.0"
    id: str
    name: str | None = None
    description: str | None = None
    cover: str | None = None
    visibility: Literal["private", "public"] | None = None
    entrance: SMEntrance
    scene: SMScene


class KernelDiagnostic(BaseModel):
    """One finding of the kernel gate."""

    lint: str = Field(description="the lint id (dangling-ref, negation, budget, ...)")
    severity: Literal["error", "warning", "info"]
    path: str = Field(description="human-readable location, e.g. event[Step outside].movement.static")
    message: str
    loc: dict[str, Any] | None = Field(default=None, description="{field, template, slot, fill} or {field, start, end, match}")


class GraphWriteResult(BaseModel):
    """The result of a graph write; ``rev`` is also the ``ETag``."""

    world: SMWorld
    diagnostics: list[KernelDiagnostic]
    rev: str
    schemaVersion: str = SV


class OpsResult(GraphWriteResult):
    applyErrors: list[str] = Field(description="per-op messages for ops that could not apply (non-fatal): ops[i]: why")


class CheckoutResult(GraphWriteResult):
    head: str


class ForkResult(GraphWriteResult):
    head: str | None = None


class Error(BaseModel):
    """Every error body."""

    detail: str
    code: str = Field(description="snake_case reason")
    errors: list[str] | None = Field(default=None, description="field-level messages")
    schemaVersion: str = SV


class GraphValidationError(BaseModel):
    """422: the world failed the kernel gate; nothing was persisted."""

    detail: str
    code: str = "gate_failed"
    diagnostics: list[KernelDiagnostic]
    schemaVersion: str = SV


class _OpBase(_Open):
    pass


class AddStateOp(_OpBase):
    op: Literal["add_state"]
    id: str | None = None
    base: str | None = None
    camera: SMLayerPair | None = None
    movement: SMLayerPair | None = None
    ambient: list[str] | None = None
    ending: dict[str, Any] | None = None
    variants: list[dict[str, Any]] | None = None


class UpdateStateOp(_OpBase):
    op: Literal["update_state"]
    id: str
    patch: SMState


class DeleteStateOp(_OpBase):
    op: Literal["delete_state"]
    id: str


class AddEventOp(_OpBase):
    op: Literal["add_event"]
    kind: Literal["transition", "override", "terminal"]
    from_: Union[str, list[str]] = Field(alias="from")
    to: str | None = None
    name: str | None = None
    base: str | None = None
    detail: str | None = None
    hotkey: str | None = None


class UpdateEventOp(_OpBase):
    op: Literal["update_event"]
    name: str
    patch: dict[str, Any]


class DeleteEventOp(_OpBase):
    op: Literal["delete_event"]
    name: str


class SetEntranceOp(_OpBase):
    op: Literal["set_entrance"]
    state: str
    image: SMImage | None = None


class AddVariantOp(_OpBase):
    op: Literal["add_variant"]
    state: str
    label: str | None = None
    base: str | None = None
    camera: SMLayerPair | None = None
    movement: SMLayerPair | None = None
    ambient: list[str] | None = None


class RemoveVariantOp(_OpBase):
    op: Literal["remove_variant"]
    state: str
    label: str


class SetSlotOp(_OpBase):
    op: Literal["set_slot"]
    name: str
    value: str


class RemoveSlotOp(_OpBase):
    op: Literal["remove_slot"]
    name: str


class GraphOp(RootModel[Annotated[
    Union[
        AddStateOp, UpdateStateOp, DeleteStateOp, AddEventOp, UpdateEventOp, DeleteEventOp,
        SetEntranceOp, AddVariantOp, RemoveVariantOp, SetSlotOp, RemoveSlotOp,
    ],
    Field(discriminator="op"),
]]):
    """One operation of the curated op vocabulary."""


# ---------------------------------------------------------------- requests
WorldDoc = Annotated[dict[str, Any], ref("SMWorld")]
StateDoc = Annotated[dict[str, Any], ref("SMState")]


class SignupRequest(_Strict):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=10, max_length=1024)


class LoginRequest(_Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class CreateAppRequest(_Strict):
    name: str = Field(min_length=1, max_length=200)


class CreateKeyRequest(_Strict):
    type: Literal["secret", "publishable"]
    mode: Literal["test", "live"]
    name: str | None = Field(default=None, max_length=200)


class ImportWorldRequest(_Strict):
    world: WorldDoc = Field(description="the SMWorld to import; the server assigns its id")


class FrameUrl(_Strict):
    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://", description="the seed frame's URL (never fetched)")


class GenerateWorldRequest(_Strict):
    """Generate a world from a premise and/or a seed frame."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    premise: str | None = Field(default=None, min_length=1, max_length=4000, description="what the world is about")
    seed: int = Field(default=0, ge=0, le=2**53, description="the same premise and seed give the same world")
    image: FrameUrl | None = Field(default=None, description="seed frame by URL: becomes the entrance image src")
    name: str | None = Field(default=None, min_length=1, max_length=200, description="the world's name")
    async_: bool = Field(default=False, alias="async", description="true: 202 {jobId} now, the world later")


class EditWorldRequest(_Strict):
    """A natural-language edit (seed 004). Either instruction or message is required."""

    instruction: str | None = Field(default=None, max_length=4000, description="what to change, in prose")
    message: str | None = Field(default=None, max_length=4000, description="alias for instruction")
    verifiedObjects: list[dict[str, Any]] | None = Field(
        default=None, max_length=100, description="grounding hints: named objects the agent may reference"
    )
    expectedRev: str | None = Field(default=None, description="optimistic-concurrency token (or If-Match)")


class CharacterPlacement(_Strict):
    id: str = Field(min_length=1, max_length=200, description="a character of the same app and mode")
    states: list[str] = Field(description="the world's states the character stands in")


class PatchWorldRequest(_Strict):
    name: str | None = None
    description: str | None = None
    cover: str | None = None
    visibility: Literal["private", "public"] | None = None
    characters: list[CharacterPlacement] | None = Field(
        default=None, description="the characters the world places (RUNTIME.md \"Characters\"); null removes them")


class ForkRequest(_Strict):
    name: str | None = Field(default=None, max_length=200)


class OpsRequest(_Strict):
    ops: Annotated[list[dict[str, Any]], WithJsonSchema(
        {"type": "array", "minItems": 1, "items": {REF_MARK: "GraphOp"}}
    )] = Field(min_length=1)
    expectedRev: str | None = None


class EntranceRequest(_Strict):
    state: str
    image: SMImage | None = None


class ValidateRequest(_Strict):
    world: WorldDoc | None = Field(default=None, description="an inline world (else the stored one)")
    data: WorldDoc | None = Field(default=None, description="alias of world")


class SnapshotRequest(_Strict):
    parentVersionId: str | None = Field(default=None, json_schema_extra={"format": "uuid"})
    message: str | None = Field(default=None, max_length=2000)


WEBHOOK_EVENTS = ("world.generation.succeeded", "world.generation.failed", "world.edited", "session.started")
DEFAULT_WEBHOOK_EVENTS = WEBHOOK_EVENTS  # API.md: an endpoint registered with no `events` gets all of them


class CreateWebhookRequest(_Strict):
    appId: str = Field(json_schema_extra={"format": "uuid"})
    url: str = Field(min_length=1, max_length=2048)
    events: list[Literal["world.generation.succeeded", "world.generation.failed", "world.edited", "session.started"]] | None = Field(default=None, min_length=1, description="default: every event")
    description: str | None = Field(default=None, max_length=1000)


# ---------------------------------------------------------------- responses
class User(BaseModel):
    id: str
    email: str
    createdAt: str


class SignupResult(BaseModel):
    user: User
    token: str
    expiresAt: str
    schemaVersion: str = SV


class LoginResult(BaseModel):
    token: str
    expiresAt: str
    schemaVersion: str = SV


class App(BaseModel):
    id: str
    name: str
    createdAt: str
    schemaVersion: str = SV


class AppList(BaseModel):
    data: list[App]
    nextCursor: str | None
    schemaVersion: str = SV


class KeyMetadata(BaseModel):
    id: str
    appId: str
    type: Literal["secret", "publishable"]
    mode: Literal["test", "live"]
    name: str
    prefix: str
    last4: str
    createdAt: str
    lastUsedAt: str | None
    revokedAt: str | None
    schemaVersion: str = SV


class MintedKey(KeyMetadata):
    key: str = Field(description="the plaintext key; shown in this response only")


class KeyList(BaseModel):
    data: list[KeyMetadata]
    nextCursor: str | None
    schemaVersion: str = SV


class WorldSummary(BaseModel):
    id: str
    name: str | None
    description: str | None
    cover: str | None
    visibility: Literal["private", "public"]
    createdAt: str
    updatedAt: str


class WorldList(BaseModel):
    data: list[WorldSummary]
    nextCursor: str | None
    schemaVersion: str = SV


class Job(BaseModel):
    jobId: str
    status: Literal["queued", "running", "succeeded", "failed"]
    worldId: str | None = None
    error: str | None = None
    schemaVersion: str = SV


class JobAccepted(BaseModel):
    jobId: str
    status: Literal["queued"]
    schemaVersion: str = SV


class EditResult(BaseModel):
    """The RESULT-ONLY answer of a natural-language edit: the world, advisory diagnostics, the agent's reply.

    Nothing else: no prompt, op trace or model. A clarifying question comes back in ``reply``
    with the world unchanged.
    """

    world: SMWorld
    diagnostics: list[KernelDiagnostic]
    reply: str = Field(description="what the agent did, or its clarifying question when nothing changed")
    rev: str
    schemaVersion: str = SV


class GraphRead(BaseModel):
    world: SMWorld
    rev: str
    schemaVersion: str = SV


class StateList(BaseModel):
    data: dict[str, SMState]
    rev: str
    schemaVersion: str = SV


class StateRead(BaseModel):
    id: str
    state: SMState
    rev: str
    schemaVersion: str = SV


class EventList(BaseModel):
    data: list[SMEvent]
    rev: str
    schemaVersion: str = SV


class EventRead(BaseModel):
    event: SMEvent
    rev: str
    schemaVersion: str = SV


class ValidateResult(BaseModel):
    ok: Literal[True]
    world: SMWorld = Field(description="the resolved world (slots filled, from normalised)")
    diagnostics: list[KernelDiagnostic]
    schemaVersion: str = SV


class LintResult(BaseModel):
    ok: bool = Field(description="true when no finding has error severity")
    diagnostics: list[KernelDiagnostic]
    schemaVersion: str = SV


class Version(BaseModel):
    id: str
    parentVersionId: str | None
    message: str
    createdAt: str
    head: bool
    schemaVersion: str = SV


class VersionWithWorld(Version):
    world: SMWorld


class VersionTree(BaseModel):
    data: list[Version] = Field(description="oldest first")
    head: str | None
    schemaVersion: str = SV


class DiffChanged(BaseModel):
    id: str | None = None
    name: str | None = None
    fields: list[str]


class DiffPart(BaseModel):
    added: list[str]
    removed: list[str]
    changed: list[Any]


class VersionDiff(BaseModel):
    a: str
    b: str
    states: DiffPart
    events: DiffPart
    entrance: dict[str, Any] | None
    slots: DiffPart
    schemaVersion: str = SV


class Meter(BaseModel):
    used: int
    reserved: int
    limit: int


class Usage(BaseModel):
    day: str
    meters: dict[str, Meter]
    schemaVersion: str = SV


class Webhook(BaseModel):
    id: str
    appId: str
    url: str
    events: list[str]
    description: str
    createdAt: str
    schemaVersion: str = SV


class CreatedWebhook(Webhook):
    secret: str = Field(description="whsec_… signing secret; shown in this response only")


class WebhookList(BaseModel):
    data: list[Webhook]
    nextCursor: str | None
    schemaVersion: str = SV


class Delivery(BaseModel):
    id: str
    eventId: str
    type: str
    attempt: int
    status: Literal["pending", "succeeded", "failed"]
    responseStatus: int | None
    createdAt: str
    nextAttemptAt: str | None


class DeliveryList(BaseModel):
    data: list[Delivery]
    nextCursor: str | None
    schemaVersion: str = SV


class Health(BaseModel):
    status: str
    schemaVersion: str = SV


# ---- characters (RUNTIME.md "Characters") ----
class CharacterVoice(_Open):
    engine: Literal["piper", "espeak-ng"] | None = Field(default=None, description="piper (neural, the default) or espeak-ng (light)")
    name: str | None = Field(default=None, description="en_US-joe-medium for piper; a language such as en-us for espeak-ng")
    rate: float | None = Field(default=None, description="speed, 0.5-2 (1 is normal)")
    pitch: float | None = Field(default=None, description="0-1 (0.5 is normal); espeak-ng only, Piper has none")


class CharacterBrain(_Open):
    persona: str = Field(description="who the character is and how they speak; never shown to players")
    lore: list[str] | str | None = Field(default=None, description="short facts in the first person, or one text the server splits into passages")
    voice: CharacterVoice | None = None


class Character(_Open):
    """A character: an SMWorld with kind "character" (stances as states, stance changes as events) and a brain."""

    schemaVersion: str | None = "1.0"
    id: str
    kind: Literal["character"]
    name: str | None = None
    entrance: SMEntrance
    scene: SMScene
    brain: CharacterBrain


class CreateCharacterRequest(_Strict):
    character: dict[str, Any] = Field(description="the character document (kind \"character\" is implied)")


class CharacterWriteResult(BaseModel):
    character: Character
    diagnostics: list[KernelDiagnostic]
    rev: str
    schemaVersion: str = SV


class CharacterSummary(BaseModel):
    id: str
    name: str | None
    createdAt: str
    updatedAt: str


class CharacterList(BaseModel):
    data: list[CharacterSummary]
    nextCursor: str | None
    schemaVersion: str = SV


class SayRequest(_Strict):
    text: str = Field(min_length=1, max_length=1000, description="what the player says")


class SayResult(BaseModel):
    reply: str
    stance: str = Field(description="the character's stance after this turn")
    fired: str | None = Field(default=None, description="the stance event that fired, when one did")
    schemaVersion: str = SV


class TtsRequest(_Strict):
    text: str = Field(min_length=1, max_length=1000, description="what the character says (at most 1,000 characters)")


SEED_SCHEMAS: tuple[type[BaseModel], ...] = (
    GraphOp, GraphWriteResult, KernelDiagnostic, Error, GraphValidationError, SMWorld, SMState, SMEvent, SMLayerPair,
)

# Request bodies an endpoint reads itself (JSON or multipart), published in components by name.
REQUEST_SCHEMAS: tuple[type[BaseModel], ...] = (ImportWorldRequest, GenerateWorldRequest)
