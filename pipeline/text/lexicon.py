"""The project's one lexicon: the words code reads meaning from, in one place.

Two parts: the words the attribution stage reads as reporting (reporting verbs in all their
inflections, phrasal particles, the function words that bound a subject noun phrase), and the cue
lists the stages read statements by (denial, contradiction, non-response, negation, hedges,
pronouns, words that point back, proposals, the writer's asides). General English, no code beyond
generating inflections and turning a list into a pattern.
"""

import re


def _words(listing: str) -> frozenset[str]:
    return frozenset(listing.split())


def any_of(words: str, *, flags: re.RegexFlag = re.IGNORECASE) -> re.Pattern[str]:
    """A whole-word pattern for a listing of words or regex pieces (``den(y|ied|ies)``, ``refut\\w*``)."""
    longest_first = sorted(words.split(), key=len, reverse=True)  # "i've" before "i"
    return re.compile(r"\b(?:" + "|".join(longest_first) + r")\b", flags)


# Reporting, attitude and stance verbs of general English (base forms). Inflections are generated
# by rule; irregular ones are listed below.
REPORTING_VERBS = _words(
    """
    say tell claim deny argue insist warn announce accuse add note explain write report acknowledge admit
    suggest believe criticize criticise urge promise ask testify predict estimate state declare assert
    contend maintain stress emphasize emphasise reiterate repeat respond reply answer counter concede
    confirm reveal disclose recall remember observe remark comment complain mention describe dismiss
    reject blame praise endorse pledge vow threaten forecast project conclude indicate think expect hope
    fear worry doubt question wonder agree disagree dispute challenge refute rebut contradict slam blast
    attack condemn denounce chastise charge allege propose recommend demand request plead caution advise
    proclaim boast brag joke quip shout yell chant tweet hint imply insinuate signal applaud
    welcome thank apologize apologise tout highlight underscore lament recount speculate
    guarantee assure reassure remind inform notify order instruct vote support oppose favor favour
    decry deride mock ridicule scoff affirm reaffirm contest protest object grumble muse ponder reckon
    figure recognize recognise decide show find
    """
)
_IRREGULAR = {
    "say": ("says", "said", "saying"),
    "tell": ("tells", "told", "telling"),
    "write": ("writes", "wrote", "written", "writing"),
    "think": ("thinks", "thought", "thinking"),
    "find": ("finds", "found", "finding"),
    "show": ("shows", "showed", "shown", "showing"),
    "forecast": ("forecasts", "forecasting"),
    "fear": ("fears", "feared", "fearing"),
}
# Particles that belong to the cue: "called on", "pointed out", "pushed for", "spoke about".
PHRASAL = {
    "call": ("on", "for"),
    "point": ("out",),
    "push": ("for",),
    "speak": ("of", "about", "out"),
    "weigh": ("in",),
    "lash": ("out",),
    "shoot": ("back",),
    "fire": ("back",),
    "hit": ("back",),
}
_PHRASAL_FORMS = {
    "call": ("call", "calls", "called", "calling"),
    "point": ("point", "points", "pointed", "pointing"),
    "push": ("push", "pushes", "pushed", "pushing"),
    "speak": ("speak", "speaks", "spoke", "spoken", "speaking"),
    "weigh": ("weigh", "weighs", "weighed", "weighing"),
    "lash": ("lash", "lashes", "lashed", "lashing"),
    "shoot": ("shoot", "shoots", "shot", "shooting"),
    "fire": ("fire", "fires", "fired", "firing"),
    "hit": ("hit", "hits", "hitting"),
}
# A verb form that is usually a noun after a determiner ("a claim", "the report") is not a cue then.
DETERMINERS = _words("a an the this that these those his her its their our my your some any no each every")
AUXILIARIES = _words(
    "has have had will would shall should can could may might must did does do also not never n't repeatedly "
    "previously later recently again already publicly privately then just quickly often once still "
    "reportedly frequently firmly flatly strongly openly loudly angrily bluntly pointedly proudly simply "
    "explicitly directly falsely wrongly correctly subsequently initially first further always long "
    "now even privately widely personally quietly sharply immediately formally officially both"
)
ADJECTIVE_ENDINGS = ("ed", "ing", "al", "ic", "ive", "ous", "ful", "less", "able", "ible", "ary", "est", "er")
# Time adjuncts between a subject and its verb: "Pence on Thursday blamed", "Smith last week said".
TIME_WORDS = _words(
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tonight week month year night "
    "morning afternoon evening weekend earlier later on last this"
)
# Verbs that still report as a bare infinitive; others ("to ask for", "to support") mostly do not.
INFINITIVE_CUES = _words("say tell call deny endorse announce declare claim criticize warn accuse urge")
NOUN_PREPOSITIONS = _words("of on from about for against over by")
MODALS = _words("will would shall should can could may might must do does did not n't never")
PASSIVE_BE = _words("is was were are be been being")
QUANTIFIERS = _words("many several some most few both two three four five six seven eight nine ten dozens hundreds")
PRONOUNS = _words("he she they we i you it who")
# Plural subjects without a final "s": "police say", "people believe".
IRREGULAR_PLURALS = _words("police people men women children")
# Words that end a subject noun phrase when scanning back from the cue.
NP_BOUNDARY = _words(
    """
    and but or nor that which because when while if as after before since although though where so than
    whether until unless whom whose what why how to in on at by with from for into about against over under
    without between during through than is was were are be been being has have had do does did not
    there here said says told according
    """
)
# A sentence that opens with one of these has an introductory phrase before its subject.
INTRO_WORDS = _words(
    """
    on in at since after before during for by with meanwhile still but and yet however also instead later
    earlier last now then today yesterday as when while if although though because speaking asked in
    """
)
# Labels that open a line with a colon without anyone speaking ("RELATED: ...", "Editor's note: ...").
SECTION_LABELS = _words(
    """
    related update updated correction clarification note editor's photo photos video watch read listen
    origins origin claim rating example source sources advertisement image caption credit disclaimer
    """
) | {"editor's note", "read more", "see also", "more", "also", "the facts", "fact check"}
TITLES = _words("mr mrs ms dr prof sen rep gov gen col lt sgt st jr sr president pres")
# Objects told/asked/urged..., skipped before the content: "told reporters that ...".
ADDRESSEE_VERBS = _words("tell ask urge warn assure reassure remind inform notify order instruct thank")
# "said in a statement": the channel belongs to the cue.
CHANNEL = re.compile(
    r"\s+in\s+(?:a|an|his|her|its|their|the)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:statement|interview|email|e-mail|letter|speech|tweet|post|memo|release|op-ed|address|remarks)\b"
)


def _inflections(base: str) -> tuple[str, ...]:
    if base in _IRREGULAR:
        return (base, *_IRREGULAR[base])
    if base.endswith("e"):
        stem = base[:-1]
        return base, base + "s", base + "d", stem + "ing"
    if base.endswith("y") and base[-2] not in "aeiou":
        stem = base[:-1]
        return base, stem + "ies", stem + "ied", base + "ing"
    third = base + "es" if base.endswith(("s", "sh", "ch", "x", "z")) else base + "s"
    # Consonant doubling of short stressed verbs: admit -> admitted, slam -> slammed, quip -> quipped.
    doubled = base + base[-1] if base in {"admit", "slam", "quip", "plan", "refer", "commit", "regret"} else base
    return base, third, doubled + "ed", doubled + "ing"


def third_person(base: str) -> str:
    """ "believe" -> "believes", "say" -> "says": a reporting verb agreeing with a name."""
    return _inflections(base)[1]


CUE_FORMS: dict[str, str] = {form: base for base in REPORTING_VERBS for form in _inflections(base)}
CUE_FORMS["declined"] = "decline"  # "declined to comment"; other forms of decline are mostly about prices
for _base, _forms in _PHRASAL_FORMS.items():
    for _form in _forms:
        CUE_FORMS.setdefault(_form, _base)
PAST_PARTICIPLES = frozenset(
    f for f in CUE_FORMS if f.endswith(("ed", "en")) or f in {"said", "told", "found", "thought"}
)
PAST_TENSE = frozenset({"wrote", "spoke", "shot", "hit"})


# ---------------------------------------------------------------- the cues statements are read by

# Negation: embeddings hardly see a "not", so merging, polarity and cue checks count these.
NEGATION_WORDS = "not never no none neither nor nobody nothing cannot"
NEGATION = re.compile(r"\b(?:" + "|".join(NEGATION_WORDS.split()) + r")\b|n['’]t\b", re.IGNORECASE)
NEGATED_CUE = re.compile(r"\b(?:not|never)\b|n['’]t\b", re.IGNORECASE)  # "did not say", "has never claimed"
# A cue that denies ("Musk denied …"), and words that contradict ("I have spoken to Putin only once").
DENYING_CUE = re.compile(
    r"\b(den(y|ied|ies)|refut\w*|reject\w*|disput\w*|rebut\w*|contradict\w*|dismiss\w*|called? .* (false|untrue))\b",
    re.IGNORECASE,
)
_FALSITY = r"false|untrue|not true|fabricat\w*|baseless|unfounded|hoax\w*"
CONTRADICTING = re.compile(
    rf"\b(den(y|ied|ies)|never|{_FALSITY}|only once|no evidence|"
    r"(were|was|is|are) (wrong|incorrect|inaccurate|misleading))\b",
    re.IGNORECASE,
)
DISPUTING = re.compile(
    r"\b(deni\w*|deny|false|untrue|not true|never)\b", re.IGNORECASE
)  # a non-response that also disputes
# Where a denial can be: pointed out to the model as places to look (it decides).
DENIAL_CUES = re.compile(
    rf"\b(den(y|ied|ies|ial)|refut\w*|reject\w*|disput\w*|contradict\w*|{_FALSITY}|never|"
    r"only once|respond\w*|repl(y|ied)|declined|no comment|wrong|misleading|rebut\w*|"
    r"fake|satir\w*|debunk\w*|no evidence)\b",
    re.IGNORECASE,
)
# "Did not respond" is a non-denial: a fixed newsroom formula.
NON_RESPONSE = re.compile(
    r"\b(did not|didn't|could not|couldn't|has not|hasn't|have not|haven't)\s+(immediately\s+)?"
    r"(respond|reply|return|be reached|comment)|\bdeclined to comment\b|\bno comment\b",
    re.IGNORECASE,
)
# "Rejected the offer" is an event; "rejected the allegations" reports a denial.
DENIAL_REPORT = re.compile(
    r"\b(den(y|ies|ied|ying|ial)|refut(e|ed|es|ing)|"
    r"(dismiss|reject|disput)(ed|es|s|ing)?\s+(\w+\s+){0,3}?(claims?|reports?|allegations?|accusations?|account))\b",
    re.IGNORECASE,
)
# Who only confirms or reports a claim passes it on; "according to" and "said" name who made it.
CONFIRMING = any_of(r"confirm\w* report\w* obtain\w* verif\w* learn\w*")
# Attribution and hedging words that say who claims, not what is claimed.
HEDGE_WORDS = "allegedly reportedly purportedly supposedly"
HEDGES = re.compile(r"\s*\b(?:" + "|".join(HEDGE_WORDS.split()) + r")\b", re.IGNORECASE)
ATTRIBUTION_WORDS = any_of(
    "said says claimed claims told tells wrote writes stated according\\s+to asserted alleged " + HEDGE_WORDS
)
TELLING = re.compile(r"^(told|tells|tell|telling|informed|assured|reassured|warned)$", re.IGNORECASE)
# "Musk had suggested that the West recognize …": what is claimed is that he proposed it.
PROPOSING = any_of(r"suggest\w* propos\w* urg\w* call(?:s|ed|ing)?\s+(?:for|on) recommend\w* demand\w*")

# Pronouns, by person: who a statement speaks as, or leans on.
FIRST_PERSON_SINGULAR = "i me my mine myself i'm i’m i've i’ve i'd i’d i'll i’ll"
FIRST_PERSON_PLURAL = "we us our ours ourselves we're we’re we've we’ve we'll we’ll"
SECOND_PERSON = "you your yours yourself yourselves you're you’re you've you’ve you'll you’ll"
THIRD_PERSON_SINGULAR = {"he": "male", "him": "male", "his": "male", "himself": "male",
                         "she": "female", "her": "female", "hers": "female", "herself": "female"}  # fmt: skip
THIRD_PERSON_PLURAL = "they them their theirs themselves"
SUBJECT_PRONOUNS = _words("he she they we i")  # a source that is only a pronoun: the name is elsewhere
OBJECT_PRONOUNS = "him her me them us"
# Honorifics that say a person's gender.
MALE_TITLES, FEMALE_TITLES = _words("mr mr."), _words("mrs mrs. ms ms. miss")
# Nouns a definite phrase uses to point back at something the article introduced ("the proposal").
POINTING_NOUNS = (
    "outcome proposal proposals plan plans deal offer idea move decision report conversation call claims? allegations? "
    "statement request threat scenario components? goals? demands? conditions? suggestion"
)
POINTS_BACK = re.compile(
    r"^(he|she|they|it|this|that|these|those|there|his|her|their|its)\b|"
    r"\b(this|that|these|those|the) (" + "|".join(POINTING_NOUNS.split()) + r")\b",
    re.IGNORECASE,
)
# The definite references the standalone check reads as pointing back ("the move", "the idea").
VAGUE_REFERENCES = (
    "outcome proposals? plans? move idea allegations? accusations? components conditions scenario decision suggestion "
    "offer remarks comments"
)
# What says which one after such a noun ("the idea of a quid pro quo", "the proposal that the West …").
RESTRICTIVE = "that of to by for from on in about against over with which who between under at"
DAYS = "monday tuesday wednesday thursday friday saturday sunday"
# What someone's claims are called: a sentence about them is not one ("doubled down on his claims").
ABOUT_CLAIMS = re.compile(
    r"\b(his|her|their|its|these|those) (claims?|allegations?|account|remarks|comments|statements?)\b", re.IGNORECASE
)
# Where an attributed claim was made ("in a newsletter to subscribers first reported by Vice", "in an Oct. 3 tweet").
VENUE_NOUNS = "newsletter interview tweet post podcast op-ed column statement press\\s+release memo blog\\s+post"
# Roles that introduce a person by what they do ("Tesla/SpaceX CEO Elon Musk", "the Tesla CEO").
ROLES = (
    "CEO chief\\s+executive founder co-founder chairman chairwoman president spokesman spokeswoman spokesperson owner"
)
# The writer about their own writing or plans: no claim a desk checks ("I wasn't planning on writing about this").
WRITERS_ASIDE = re.compile(
    r"^\W*(?:but\s+|and\s+|so\s+)?(?:i|we)\s+(?:[\w’']+\s+){0,3}?(?:plan\w*|intend\w*|"
    r"going\s+to\s+write|writ\w*|cover\w*|set\s+out|sat\s+down|arriv\w*|travel\w*|visit\w*)\b"
    r"|\b(?:to|of|on)\s+writ\w*\s+(?:about\s+)?(?:this|it|what)\b"
    r"|\b(?:this|the)\s+(?:newsletter|column|piece|post)\s+(?:i|we)\b"
    r"|^\W*(?:when|as|while|after|before)\s+(?:i|we)\s+(?:[\w’']+\s+){0,2}?"
    r"(?:worked|was|were|arrived|sat|walked|visited|lived)\b",
    re.IGNORECASE,
)
# Publisher boilerplate a desk never checks.
BOILERPLATE = re.compile(
    r"\b(licens(e|ing)|all rights reserved|copyright|available without charge|subscribe|sign up for|"
    r"contact \S+@|@\S+\.(com|org)|this (article|story) (was|has been) (updated|corrected))\b",
    re.IGNORECASE,
)
# Words that carry no content: what two sentences share beyond these says they are about one thing.
FUNCTION_WORDS = _words(
    "the a an of to in on for and or but is are was were be been being has have had it its this that these those "
    "with as at by from he she they we you i his her their our after before over about into than then so not no "
    "also more most very would could should will can may might which when what who whom whose there here only"
)
