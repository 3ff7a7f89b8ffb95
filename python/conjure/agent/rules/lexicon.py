"""Word classes the rules reason with: what names a place, what is only an adjective or a
verb, what is too vague to act on, and the English the agent reads. One place for each list."""

from __future__ import annotations

from conjure.agent import words as W

# Nouns that name somewhere the player can stand (beyond the prose bank's keys).
PLACE_NOUNS: frozenset[str] = frozenset(W.PLACE_DETAILS) | frozenset(
    """
    room chamber hall hallway corridor passage cellar basement attic loft crypt vault tomb ossuary catacomb
    chapel church shrine temple sanctuary sacristy nave cloister abbey monastery scriptorium library study
    office bedroom nursery parlour parlor lounge salon ballroom kitchen pantry larder scullery bathroom bath
    bathhouse greenhouse glasshouse conservatory garden orchard yard courtyard square plaza market bazaar
    stall shop store bakery tavern inn pub bar saloon cafe restaurant canteen galley mess barracks armoury
    armory smithy forge foundry workshop lab laboratory factory mill warehouse depot station platform
    terminal dock docks pier wharf quay harbour harbor port shipyard boathouse shed hut cabin cottage house
    villa manor mansion palace castle keep fort fortress tower turret belfry spire gallery balcony terrace
    roof rooftop deck bridge cockpit airlock bay hangar reactor engine medbay infirmary hospital ward cell
    prison jail dungeon pit mine shaft tunnel sewer cave cavern grotto gorge canyon valley cliff ledge
    summit peak mountain hill ridge forest wood woods jungle clearing glade meadow field farm barn stable
    stables orchard swamp marsh bog lake pond pool river stream waterfall falls beach shore coast island
    desert oasis dune camp campsite village town city street alley lane road path trail plaza arena
    stadium theatre theater opera museum observatory planetarium lighthouse watchtower gatehouse gate
    wall moat throne court dome car carriage cabin compartment hold van wagon pod capsule module
    airstrip runway lobby foyer vestibule landing stair stairs staircase stairwell chimney well cistern
    fountain maze labyrinth ruin ruins graveyard cemetery mausoleum crossroads outpost base bunker
    hideout den lair nest grove garden annex wing suite closet cupboard locker
    """.split()
)

# Adjectives and participles that must never become a place's name.
ADJECTIVES: frozenset[str] = frozenset(
    """
    better best nicer nice good great cool cooler scary scarier spooky spookier creepy creepier dark darker
    light lighter big bigger small smaller little large huge tiny old older new newer ancient secret hidden
    flooded ruined abandoned empty full cold colder warm warmer wet wetter dry drier bright brighter dim
    dimmer quiet louder loud strange weird exciting interesting fun boring pretty beautiful ugly grim gloomy
    eerie haunted cosy cozy grand long short high low deep shallow narrow wide more less most least alive
    dead real fake main other another same different whole entire fancy epic awesome sci fi scifi
    """.split()
)

# Words that say nothing concrete on their own.
VAGUE: frozenset[str] = frozenset(
    """
    it this that thing things stuff something everything anything content more better nicer improve
    improved fix fixed tweak polish change changes changed pop alive exciting interesting fun good great
    cool awesome work better-looking feel vibe vibes atmosphere spooky spookier scarier creepier sci fi
    scifi stuff some bit lot whole world game story
    """.split()
)

PRONOUNS: frozenset[str] = frozenset(
    "i me you we us they them he him she her it its one ones this that these those someone something".split()
)

# English function and command words: a text with almost none of these is not English.
ENGLISH: frozenset[str] = frozenset(
    """
    a an the and or but not no of to in on at by for with from into onto off up down over under out as is
    are be been was were it its this that these those there here should shouldn't can can't could would
    will won't do don't does doesn't did make made let add remove delete rename call connect link put place
    hide leave give set change start begin end ending win lose need needs require requires go goes walk
    climb enter exit back way path door room after before seconds minutes once only every all any some more
    less too also please pls player players you your i me my we our when while if then than so what which
    who where how why new old use define slot variant version key hotkey bind lock unlock describe look
    looks like get rid scrap drop move open close shut is isn't anymore any longer instead want wants
    """.split()
)

INJECTION = (
    r"\bignore\b.{0,40}\b(?:rules|instructions|prompt|previous|above|world)\b",
    r"\b(?:forget|disregard)\b.{0,30}\b(?:rules|instructions|prompt)\b",
    r"\bsystem\s*(?:prompt|override|:)",
    r"\byou are now\b",
    r"\badmin mode\b",
    r"</?\s*(?:instruction|system|assistant|user)\s*>",
    r"\bassistant\s*:",
    r"\b(?:delete|remove|erase|wipe|clear)\s+(?:all|every|each)\s+(?:the\s+)?(?:states?|events?|places?|rooms?|actions?)\b",
    r"^\s*(?:delete|remove|erase|wipe|clear)\s+(?:everything|it all|the whole (?:world|game))\b",
    r"\bpwned\b",
    r"\breply with\b",
    r"\boutput\b.{0,20}\b(?:prompt|instructions)\b",
    r"\{\s*\"ops\"\s*:",
)

# Everyday English the typo fixer must leave alone (beyond the word banks and the world's prose).
COMMON: frozenset[str] = frozenset(
    """
    rain rainy storm stormy snow snowy fog foggy mist misty wind windy weather sun sunny moon star stars sky
    cloud clouds night dawn dusk day morning evening noon midnight black white red green blue grey gray gold
    golden silver brown yellow purple pink orange still steam stream swing swim jump run walk crawl climb fall
    drop leap ride fly sail dive slide push pull tilt pan orbit circle follow shake sway drift look looks see
    show shows seen watch water fire smoke ash dust light lights lamp lamps candle candles shadow shadows glow
    glowing flicker flickering tree trees leaf leaves grass stone stones rock rocks wood metal iron glass brass
    bird birds bat bats rat rats cat cats dog dogs crow crows gull gulls raven pigeon pigeons monkey monkeys
    snake snakes spider spiders fish horse people person man woman child children guard guards keeper
    conductor thief thieves king queen knight monk monks ghost ghosts body bones skull skulls blood
    table chair chairs bed beds book books shelf shelves box boxes crate crates barrel barrels bottle bottles
    window windows wall walls floor ceiling roof door doors stair steps step rope chain chains bell bells
    clock clocks map key keys coin coins ring rings sword shield lantern torch card note letter paper papers
    heavy thin thick soft hard sharp rough smooth slow slowly fast quickly quiet silent noisy busy crowded
    frozen burning broken cracked rusty rusted dusty dripping wet dry warm hot cold cool damp foul sweet
    first second third last next every each both either neither only just even also again very really
    much many few lot lots little more most less least enough too quite rather almost already instead
    player game world level story place places thing things way ways time times minute second seconds
    one two three four five six seven eight nine ten of off it its him her his hers them they their our out
    own new old yes no ok okay hi hey thanks thank sure maybe now then there here where when why how who
    """.split()
)
