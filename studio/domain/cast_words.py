"""The vocabulary of the cast finder (``studio.domain.cast``): titles, verbs, and the common
capitalised words that are not people.

Kept apart from the rules so the lists can grow without the algorithm moving.  Everything is
lowercase (compared with ``str.casefold``).  The lists are English: a story in another language
still gets its bible characters, speech attributions and titles it shares with English.
"""

from __future__ import annotations

from studio.domain.continuity import ACTION_VERBS, SPEECH_VERBS
from studio.domain.continuity import STOPWORDS as NAME_STOPWORDS
from studio.domain.similarity import STOPWORDS as COMMON_STOPWORDS

# Title → its gender class: "m" and "f" titles make different people of one surname
# ("Mr. Bennet", "Mrs. Bennet"), "miss" another ("Miss Bennet"); "" titles (Dr, Captain…) say
# nothing about gender and match the bare name.  Spellings are normalised to the first form.
TITLE_FORMS = {
    "mr": "mr", "mister": "mr", "mrs": "mrs", "missus": "mrs", "ms": "ms", "miss": "miss",
    "dr": "dr", "doctor": "dr", "prof": "professor", "professor": "professor",
    "st": "saint", "saint": "saint", "sir": "sir", "madam": "madam", "madame": "madam",
    "mme": "madam", "mademoiselle": "miss", "mlle": "miss", "monsieur": "mr", "m": "mr",
    "herr": "mr", "frau": "mrs", "fraulein": "miss", "señor": "mr", "senor": "mr",
    "señora": "mrs", "senora": "mrs", "signor": "mr", "signora": "mrs", "don": "don",
    "lady": "lady", "lord": "lord", "dame": "dame", "captain": "captain", "capt": "captain",
    "colonel": "colonel", "col": "colonel", "major": "major", "general": "general",
    "lieutenant": "lieutenant", "lt": "lieutenant", "sergeant": "sergeant", "sgt": "sergeant",
    "inspector": "inspector", "constable": "constable", "detective": "detective",
    "admiral": "admiral", "commander": "commander", "corporal": "corporal",
    "reverend": "reverend", "rev": "reverend", "father": "father", "brother": "brother",
    "sister": "sister", "mother": "mother", "aunt": "aunt", "uncle": "uncle",
    "count": "count", "countess": "countess", "baron": "baron", "baroness": "baroness",
    "duke": "duke", "duchess": "duchess", "prince": "prince", "princess": "princess",
    "king": "king", "queen": "queen", "emperor": "emperor", "empress": "empress",
    "earl": "earl", "marquis": "marquis", "marquess": "marquis", "viscount": "viscount",
    "judge": "judge", "professor's": "professor", "nurse": "nurse", "master": "master",
    "mistress": "mistress", "bishop": "bishop", "cardinal": "cardinal", "pope": "pope",
    "sheriff": "sheriff", "mayor": "mayor", "chief": "chief", "elder": "elder",
}
TITLE_GENDER = {
    "mr": "m", "sir": "m", "lord": "m", "don": "m", "father": "m", "brother": "m", "uncle": "m",
    "count": "m", "baron": "m", "duke": "m", "prince": "m", "king": "m", "emperor": "m",
    "earl": "m", "marquis": "m", "viscount": "m", "master": "m",
    "mrs": "f", "ms": "f", "madam": "f", "lady": "f", "dame": "f", "sister": "f",
    "mother": "f", "aunt": "f", "countess": "f", "baroness": "f", "duchess": "f",
    "princess": "f", "queen": "f", "empress": "f", "mistress": "f",
    "miss": "miss",
}
# Titles that go with a first name ("Sir William", "Lady Catherine") rather than a surname.
FIRST_NAME_TITLES = frozenset("sir lady dame lord don father brother sister aunt uncle "
                              "prince princess king queen emperor empress saint".split())
# Forms of address that stand for a titled person ("your Majesty" is the King).
HONORIFICS = {
    "majesty": ("king", "queen", "emperor", "empress"),
    "highness": ("prince", "princess", "duke", "duchess"),
    "lordship": ("lord", "earl", "duke", "count", "baron", "viscount", "marquis"),
    "ladyship": ("lady", "countess", "duchess", "baroness"),
    "excellency": ("general", "admiral", "count", "duke"),
    "eminence": ("cardinal",), "holiness": ("pope",), "reverence": ("reverend", "father"),
}

# Capitalised words that are never a name, not even after a title ("the Herr Englishman").
NEVER_NAMES = frozenset("""
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december spring summer autumn winter
christmas easter michaelmas lent whitsun advent halloween hallowe'en midsummer
god gods heaven heavens hell christ jesus providence almighty devil satan lucifer
north south east west northern southern eastern western
english french german italian spanish russian american british irish scottish scotch welsh
dutch greek roman latin chinese japanese indian african european continental turkish polish
austrian hungarian swiss swedish norwegian danish bohemian hebrew jewish christian catholic
protestant englishman englishwoman englishmen frenchman frenchmen frenchwoman
germans americans slovak servian serbian saxon norman normans celtic arab arabic persian
egyptian asian oriental yankee cockney parisian londoner victorian elizabethan
i i'm i'll i've i'd
""".split())
# Common capitalised words that are not a character's name on their own (but may follow a
# title: "Mrs. Darling", "Mrs. Long").
NOT_NAMES = frozenset(NEVER_NAMES | frozenset("""
fall lord
ma pa mamma mama papa mum mummy mom mommy dad daddy granny grandma grandpa grandfather
grandmother nanny nurse baby
oh ah ha hum pooh ugh ahem alas hurrah hurray hush lo bah pshaw eh aye nay yes no well why
hallo hello hullo goodbye good-bye bravo amen o ay ho hey hi ooh aha oho hmm mm ow ouch
chapter part book volume act scene note mem ps esq esquire ok okay tv mrs mr ms miss sir
madam dear dearest darling sweetheart love honey
street road lane avenue square park hall house lodge court place row terrace gardens
castle hotel inn tavern museum church cathedral abbey chapel palace tower bridge station
river sea ocean lake bay island isle mountains mountain hill hills valley forest wood woods
moor pass gate college school university hospital prison market city town village county
empire kingdom republic state states parliament government army navy police company
""".split()))
# Last (or any) word of a place name: "Baker Street", "Castle Dracula", "Hotel Royale".
PLACE_WORDS = frozenset("""
street road lane avenue square park hall house lodge court place row terrace gardens garden
castle hotel inn tavern museum church cathedral abbey chapel palace tower bridge station
river sea ocean lake bay island isle mountains mountain hill hills valley forest wood woods
moor pass gate college school university hospital prison market city town village county
shire harbour harbor port heath green common manor farm mill cross end rise wharf dock docks
quay pier mews crescent close way walk alley circus embankment canal falls cliffs coast
desert plains plain fields field land lands kingdom empire republic states
""".split())
PLACE_SUFFIXES = ("shire", "burgh", "borough", "chester", "caster", "minster", "ville",
                  "grad", "polis", "stadt", "land")
# Words before a capitalised word that say "this is a place": "in Paris", "at Longbourn".
PLACE_PREPOSITIONS = frozenset("""
in at to from into towards toward near through across reached entered visited beyond inside
outside within via leaving reaching entering around throughout
""".split())
# Words that may stand between a speech verb and its speaker ("said the young Crab").
SPEAKER_FILLERS = frozenset("the a an old young little poor dear great big small".split())
# Before a name: "poor Alice", "dear Dinah", "my little Lizzy" — said of people.
ENDEARMENTS = frozenset("poor dear dearest darling little sweet beloved".split())
# Leading words of a capitalised run that are not part of the name ("Then Marlow",
# "Poor Alice", "Said the Mouse").
OPENERS = frozenset(NAME_STOPWORDS | COMMON_STOPWORDS | NOT_NAMES | ENDEARMENTS
                    | SPEECH_VERBS | frozenset("""
good old young great big small dear my our your their his her its every any no not
first last next whole other another such same very quite only even also both either
neither shall should would could might must will can may do does did is are was were be
been has have had let see look come go say tell""".split()))

SPEECH = frozenset(SPEECH_VERBS | frozenset("""
returned remarked observed protested interposed rejoined resumed responded repeated urged
sighed pleaded whispered murmured exclaimed shouted answered continued added called
cried said says asked replied""".split()))
THOUGHT = frozenset("""
thought felt wondered knew remembered realised realized hoped feared wished believed
imagined supposed doubted considered reflected longed dreaded recalled understood decided
pondered mused worried suspected sensed guessed dreamed dreamt fancied regretted resolved
reckoned brooded marvelled marveled yearned hated loved missed despaired rejoiced
thinks feels wonders knows remembers realises realizes hopes fears wishes believes imagines
supposes doubts considers reflects recalls understands decides ponders senses guesses
""".split())
# What a person does right after being named: evidence that a capitalised word is a person.
PERSON_VERBS = frozenset(ACTION_VERBS | SPEECH | THOUGHT | frozenset("""
smiled laughed nodded frowned shrugged sighed looked turned stood sat walked ran wept
grinned blushed glanced stared whistled chuckled yawned bowed winked cried""".split()))
INNER_NOUNS = frozenset("mind heart thoughts feelings memory conscience soul".split())

# Pet names and short forms → the given names they stand for ("Lizzy" is Elizabeth).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "lizzy": ("elizabeth",), "lizzie": ("elizabeth",), "liz": ("elizabeth",),
    "beth": ("elizabeth",), "betsy": ("elizabeth",), "bess": ("elizabeth",),
    "eliza": ("elizabeth",), "betty": ("elizabeth",), "kitty": ("catherine", "katherine"),
    "kate": ("catherine", "katherine"), "katie": ("catherine", "katherine"),
    "cathy": ("catherine",), "kathy": ("katherine",), "jack": ("john",), "johnny": ("john",),
    "bill": ("william",), "billy": ("william",), "will": ("william",), "willy": ("william",),
    "bob": ("robert",), "bobby": ("robert",), "rob": ("robert",), "robbie": ("robert",),
    "dick": ("richard",), "rick": ("richard",), "tom": ("thomas",), "tommy": ("thomas",),
    "jim": ("james",), "jimmy": ("james",), "jamie": ("james",), "ned": ("edward",),
    "ted": ("edward", "theodore"), "teddy": ("edward", "theodore"), "harry": ("henry",),
    "hal": ("henry",), "peggy": ("margaret",), "meg": ("margaret",), "maggie": ("margaret",),
    "molly": ("mary",), "polly": ("mary",), "sally": ("sarah",), "nancy": ("anne", "ann"),
    "nell": ("eleanor", "helen"), "nellie": ("eleanor", "helen"), "sue": ("susan",),
    "susie": ("susan",), "jenny": ("jane", "jennifer"), "fanny": ("frances",),
    "fred": ("frederick",), "freddie": ("frederick",), "charlie": ("charles",),
    "sam": ("samuel",), "ben": ("benjamin",), "alex": ("alexander",), "tony": ("anthony",),
    "mike": ("michael",), "nick": ("nicholas",), "dan": ("daniel",), "joe": ("joseph",),
    "matt": ("matthew",), "pete": ("peter",), "phil": ("philip",), "steve": ("stephen",),
    "andy": ("andrew",), "abby": ("abigail",), "becky": ("rebecca",), "dolly": ("dorothy",),
    "dot": ("dorothy",), "lottie": ("charlotte",), "lotty": ("charlotte",),
    "tilly": ("matilda",), "vicky": ("victoria",), "jo": ("josephine",),
    "minnie": ("wilhelmina",), "mina": ("wilhelmina",), "georgie": ("george", "georgiana"),
}

__all__ = ["ENDEARMENTS", "FIRST_NAME_TITLES", "HONORIFICS", "INNER_NOUNS", "NEVER_NAMES",
           "NICKNAMES", "NOT_NAMES", "OPENERS", "PERSON_VERBS", "PLACE_PREPOSITIONS",
           "PLACE_SUFFIXES", "PLACE_WORDS", "SPEAKER_FILLERS", "SPEECH", "THOUGHT", "TITLE_FORMS", "TITLE_GENDER"]
