"""The words the attribution stage reads as reporting: a lexicon of general English (reporting
verbs in all their inflections, phrasal particles, and the function words that bound a subject
noun phrase), with no code beyond generating the inflections."""

import re


def _words(listing: str) -> frozenset[str]:
    return frozenset(listing.split())


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


CUE_FORMS: dict[str, str] = {form: base for base in REPORTING_VERBS for form in _inflections(base)}
CUE_FORMS["declined"] = "decline"  # "declined to comment"; other forms of decline are mostly about prices
for _base, _forms in _PHRASAL_FORMS.items():
    for _form in _forms:
        CUE_FORMS.setdefault(_form, _base)
PAST_PARTICIPLES = frozenset(
    f for f in CUE_FORMS if f.endswith(("ed", "en")) or f in {"said", "told", "found", "thought"}
)
PAST_TENSE = frozenset({"wrote", "spoke", "shot", "hit"})
