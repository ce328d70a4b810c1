"""A labelled corpus for story clustering and copy detection, generated in code.

Deterministic by seed; every name is invented. Events happen at a steady rate (``per_day``)
so that a larger corpus means a longer archive, not a denser news day. Each event is covered
by 1–6 outlets, each outlet with its own headline template, synonyms, lead and sentence order;
some articles are syndicated to other outlets as edited copies (new title and byline, trimmed,
a publisher's footer added), labelled with ``copy_of``.

What keeps it from being easy (``Corpus.hard_negatives`` counts each kind):

- same town, different event within three days (shared place names and entities);
- same institution, different event the same week ("Port Alder council" twice);
- recurring beats: a town's weekly council meeting, one event a week, near-identical words;
- same kind of event (two fires, two floods) in different towns the same day;
- strays: single articles (columns, notices) naming an event's town and institution.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

START = datetime(2025, 3, 3, 6, 0, tzinfo=timezone.utc)

_SYL = ["mar", "ben", "tor", "lis", "ca", "ro", "van", "del", "or", "ash", "wick", "ford", "ly", "ston",
        "ham", "dun", "ell", "bro", "kin", "sel", "tam", "gar", "pel", "quin", "rad", "zo", "fen", "hal"]
_TOWN_END = ["", " Falls", " Harbour", " Bay", " Point", " Creek", " Ridge", " Landing", " Mills", " Cove"]
FIRST = ["Ada", "Bruno", "Chloé", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ines", "Jonah", "Kiri", "Liam",
         "Maëlle", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás", "Uma", "Viktor", "Wren", "Yusuf"]
LAST = ["Abernathy", "Bélanger", "Castellano", "Dunmore", "Eriksen", "Fairweather", "Gagnon", "Hollis",
        "Iqbal", "Jovanovic", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Pemberton",
        "Quesnel", "Rasmussen", "Tremblay", "Underhill", "Vasquez", "Whitlock", "Achterberg", "Brannigan"]
PLACE_KIND = ["Street", "Bridge", "Arena", "Park", "Mill", "Wharf", "Road", "Library", "School", "Hall"]
INSTITUTIONS = ["council", "school board", "hospital", "transit authority", "police service",
                "water utility", "harbour commission", "library board", "fire department", "parks board"]

# Event kinds: headline templates and fact sentences; {t} town, {i} institution, {p} person,
# {l} place, {n} a number, {m} an amount. Each outlet picks templates its own way.
KINDS: dict[str, tuple[list[str], list[str]]] = {
    "fire": (["Fire destroys {l} building in {t}", "{t} blaze guts building on {l}",
              "Crews battle overnight fire at {l} in {t}", "{n} displaced after {l} fire in {t}",
              "Overnight blaze on {l} leaves {n} homeless in {t}"],
             ["Firefighters were called to {l} shortly after midnight.", "{n} residents were displaced by the fire.",
              "Fire chief {p} said the cause is under investigation.", "No injuries were reported at {l}.",
              "The building on {l} was declared a total loss.", "Neighbours described flames visible for blocks."]),
    "vote": (["{t} {i} approves {l} plan", "{i} in {t} backs {l} redevelopment",
              "{t} {i} votes {n} to 2 for {l} project", "{l} project wins {t} {i} approval",
              "Green light for {l} plan as {t} {i} votes"],
             ["The {i} voted {n} to 2 in favour of the {l} plan.", "Chair {p} called the {l} vote historic.",
              "The project is expected to cost {m} dollars.", "Opponents of the {l} plan vowed to appeal.",
              "Work at {l} could begin next spring.", "Residents packed the chamber for the {l} debate."]),
    "closure": (["{l} closes indefinitely in {t}", "{t} shuts {l} over safety fears",
                 "Safety concerns force closure of {l} in {t}", "{t} {i} closes {l} after inspection",
                 "Inspection finds cracks, {l} closed in {t}"],
                ["An inspection found structural cracks at {l}.", "{i} spokesperson {p} said repairs could cost {m} dollars.",
                 "Detours around {l} will stay in place for weeks.", "Engineers will return to {l} next month.",
                 "Commuters face delays while {l} is shut.", "The {i} ordered the closure on Tuesday."]),
    "appointment": (["{t} {i} names {p} as new chief", "{p} to lead {t} {i}",
                     "New head for {t} {i}: {p} takes over", "{t} {i} appoints {p} after long search",
                     "{p} picked to run {i} in {t}"],
                    ["{p} replaces a chief who retired in the winter.", "{p} previously worked at {l}.",
                     "The {i} chose {p} from {n} applicants.", "{p} starts the job next month.",
                     "Staff at {l} welcomed the appointment of {p}.", "{p} promised a review of {i} spending."]),
    "flood": (["Flooding swamps {l} in {t}", "{t} residents evacuated as {l} floods",
               "Rising water closes {l} in {t}", "{n} homes flooded near {l} in {t}",
               "Flood warning for {t} after {l} overflows"],
              ["Water rose quickly around {l} after heavy rain.", "{n} homes near {l} were evacuated.",
               "Emergency coordinator {p} urged residents to stay away from {l}.",
               "Sandbags were handed out at {l}.", "The {i} opened a shelter for evacuees.",
               "More rain is forecast for the {l} area."]),
    "strike": (["{t} {i} workers walk off the job", "Strike hits {t} {i}",
                "{n} {i} staff strike in {t}", "Picket lines go up at {l} in {t}",
                "Talks fail, {t} {i} workers strike"],
               ["{n} workers set up picket lines at {l}.", "Union president {p} said talks had stalled.",
                "The {i} said services would be reduced.", "The two sides are {m} dollars apart.",
                "No new talks are scheduled at {l}.", "Residents were told to expect delays."]),
    "award": (["{p} of {t} wins national prize", "{t} {i} honoured: {p} takes award",
               "National award for {t}'s {p}", "{p} recognised for work at {l} in {t}",
               "{t} celebrates as {p} wins top honour"],
              ["{p} was recognised for {n} years of work at {l}.", "The prize comes with {m} dollars.",
               "Colleagues at the {i} threw a party for {p}.", "{p} said the award belongs to the whole team.",
               "The ceremony will be held at {l}.", "{p} plans to donate the prize money."]),
    "crash": (["{n} hurt in crash on {l} in {t}", "Collision closes {l} near {t}",
               "{t} crash on {l} sends {n} to hospital", "Multi-vehicle crash snarls {l} in {t}",
               "Police investigate {l} collision in {t}"],
              ["{n} people were taken to hospital after the crash on {l}.", "Sergeant {p} said speed may have been a factor.",
               "{l} was closed for several hours.", "Witnesses are asked to contact the {i}.",
               "The crash happened during the morning rush on {l}.", "Tow trucks cleared {l} by noon."]),
    "budget": (["{t} {i} budget rises {n} per cent", "{t} {i} unveils {m} dollar budget",
                "Budget for {t} {i} includes {l} upgrade", "{i} budget in {t} raises taxes {n} per cent",
                "{t} {i} tables spending plan with {l} money"],
               ["The {i} budget totals {m} dollars.", "Treasurer {p} said costs rose {n} per cent.",
                "The plan includes money to repair {l}.", "Taxpayers will see bills rise {n} per cent.",
                "A public meeting on the budget is set for {l}.", "{p} defended the spending increases."]),
    "lawsuit": (["{t} {i} sued over {l}", "Lawsuit targets {t} {i} over {l} deal",
                 "{p} takes {t} {i} to court over {l}", "Court fight looms over {l} in {t}",
                 "{t} {i} faces {m} dollar claim over {l}"],
                ["{p} filed the claim on behalf of {l} neighbours.", "The claim seeks {m} dollars in damages.",
                 "The {i} said it would defend itself in court.", "The dispute over {l} began {n} years ago.",
                 "None of the allegations about {l} have been proven.", "A hearing is expected in the autumn."]),
}
SYNONYMS = {"residents": ["locals", "people living nearby", "neighbours"], "said": ["says", "told reporters", "stated", "explained", "noted"],
            "destroys": ["levels", "wrecks"], "approves": ["endorses", "passes"], "closure": ["shutdown"],
            "workers": ["employees", "staff members"], "crash": ["collision", "wreck"], "budget": ["spending plan"],
            "fire": ["blaze"], "evacuated": ["moved out", "ordered out"], "award": ["honour", "prize"],
            "after": ["following", "in the wake of"], "could": ["may", "might"], "will": ["is set to", "is going to"],
            "was": ["had been"], "were": ["had been"], "expected": ["likely", "forecast"], "next": ["the coming"],
            "called": ["summoned", "sent"], "under": ["still under"],
            "people": ["individuals", "persons"], "plan": ["proposal", "scheme"], "work": ["construction"],
            "reported": ["recorded", "confirmed"], "several": ["a number of", "many"]}
SYNONYMS.update({
    "found": ["discovered", "uncovered"], "building": ["structure"], "cause": ["origin"], "injuries": ["casualties"],
    "declared": ["ruled"], "voted": ["cast votes"], "favour": ["support"], "historic": ["a landmark"],
    "cost": ["run to"], "opponents": ["critics"], "vowed": ["promised"], "begin": ["start"], "packed": ["filled"],
    "chamber": ["hall"], "inspection": ["survey"], "repairs": ["fixes"], "detours": ["diversions"],
    "engineers": ["inspectors"], "commuters": ["drivers"], "delays": ["hold-ups"], "ordered": ["mandated"],
    "replaces": ["succeeds"], "retired": ["stepped down"], "previously": ["formerly"], "chose": ["selected"],
    "applicants": ["candidates"], "starts": ["begins"], "job": ["role"], "welcomed": ["applauded"],
    "promised": ["pledged"], "review": ["audit"], "spending": ["expenses"], "rose": ["climbed"],
    "quickly": ["rapidly"], "heavy": ["intense"], "homes": ["houses"], "urged": ["asked"], "opened": ["set up"],
    "shelter": ["refuge"], "area": ["district"], "talks": ["negotiations"], "stalled": ["broken down"],
    "services": ["operations"], "reduced": ["scaled back"], "scheduled": ["planned"], "recognised": ["honoured"],
    "ceremony": ["event"], "held": ["hosted"], "donate": ["give away"], "taken": ["rushed"], "factor": ["cause"],
    "contact": ["call"], "happened": ["occurred"], "cleared": ["removed"], "totals": ["amounts to"],
    "bills": ["invoices"], "rise": ["increase"], "repair": ["fix"], "defended": ["justified"],
    "increases": ["hikes"], "filed": ["lodged"], "seeks": ["asks for"], "damages": ["compensation"],
    "defend": ["fight"], "dispute": ["conflict"], "allegations": ["claims"], "hearing": ["trial date"],
    "set": ["put"], "two": ["both"], "sides": ["parties"], "expect": ["anticipate"], "new": ["fresh"],
    "money": ["funds"], "includes": ["contains"], "public": ["open"], "meeting": ["session"],
    "plans": ["intends"], "team": ["crew"], "work": ["service"], "prize": ["award"], "hours": ["hours"],
    "shortly": ["soon"], "midnight": ["12 a.m."], "displaced": ["forced out"], "investigation": ["inquiry", "probe"],
    "reported": ["recorded"], "neighbours": ["nearby residents"], "described": ["reported"], "visible": ["seen"],
    "flames": ["fire"], "blocks": ["streets around"], "structural": ["serious"], "cracks": ["fractures"],
    "weeks": ["some time"], "return": ["come back"], "month": ["few weeks"], "workers": ["employees"],
    "union": ["labour"], "president": ["leader"], "claim": ["suit"], "proven": ["tested in court"],
})
ATTRIBUTIONS = ["Officials confirmed that", "According to local sources,", "Reports indicate that",
                "It emerged that", "As of this morning,", "Sources close to the matter said",
                "In a statement,", "Speaking to reporters, officials noted that", "By all accounts,",
                "Early reports suggest that", "We have learned that", "Witnesses told us that"]
FILLER = ("the story is developing and more details are expected as the day goes on while residents "
          "wait for answers from officials about what happens next in the community this week").split()
FOOTERS = ["{o} — Our website is the place for the latest news. Subscribe today.",
           "This story originally ran in a partner publication. {o} thanks its readers.",
           "© {o}. All rights reserved. Sign up for the {o} newsletter."]
BEAT = ("{t} council holds weekly meeting", ["Council met on {d} for its regular weekly session.",
        "The agenda included {l} and routine committee reports.", "Mayor {p} chaired the meeting.",
        "Councillors approved the minutes of the previous session.", "The next meeting is set for next week."])
STRAY = ["Letter: {t} deserves better from its {i}", "Column: what the {i} in {t} gets wrong",
         "Notice: {t} {i} office hours change", "Opinion: {t} needs a plan for {l}"]
STRAY_BODY = ["Readers in {t} have written to us about the {i} again.", "The {i} has a long history in {t}.",
              "Few people remember when {l} was built.", "This column reflects the views of its writer.",
              "Public notices are published every week.", "We welcome letters from readers in {t}."]


@dataclass(frozen=True, slots=True)
class CorpusArticle:
    id: int
    source_id: int
    title: str
    text: str
    published_at: datetime
    event_id: int  # the event it covers; every stray is an event of its own
    copy_of: int | None = None  # the article id this is a syndicated copy of


@dataclass
class Corpus:
    articles: list[CorpusArticle]
    hard_negatives: dict[str, int] = field(default_factory=dict)
    events: int = 0


@dataclass
class _Event:
    id: int
    kind: str
    town: str
    inst: str
    at: datetime
    slots: dict[str, str]


def _towns(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        base = "".join(rng.sample(_SYL, rng.choice((2, 2, 3)))).capitalize()
        names.add(base + rng.choice(_TOWN_END))
    return sorted(names)


def build_corpus(*, events: int = 400, per_day: float = 13.0, outlets: int = 40, seed: int = 1,
                 copy_rate: float = 0.25) -> Corpus:
    """``events`` events at ``per_day`` a day (plus weekly beats and strays), covered by
    ``outlets`` fictional outlets. Articles come sorted by publication time."""
    rng = random.Random(seed)
    days = events / per_day
    towns = _towns(rng, max(20, int(days * 1.5)))
    places = [f"{rng.choice(LAST)} {rng.choice(PLACE_KIND)}" for _ in range(max(60, events // 2))]
    styles = [(rng.random() < 0.3, rng.randrange(5), rng.random()) for _ in range(outlets)]  # title case, template, synonym use
    evs: list[_Event] = []
    for number in range(events):
        at = START + timedelta(days=rng.uniform(0, days))
        slots = {"t": rng.choice(towns), "i": rng.choice(INSTITUTIONS), "p": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                 "l": rng.choice(places), "n": str(rng.randint(3, 40)), "m": f"{rng.randint(2, 90)} million"}
        evs.append(_Event(number, rng.choice(sorted(KINDS)), slots["t"], slots["i"], at, slots))
    # hard negatives made on purpose: a second event in the same town (and institution) soon after
    hard = {"same town, different event within 3 days": 0, "same institution, different event same week": 0,
            "same kind, different town, same day": 0, "recurring weekly council meetings (beats)": 0,
            "strays sharing a town and institution with an event": 0}
    for source in list(evs[: events // 5]):
        at = source.at + timedelta(hours=rng.uniform(6, 72))
        slots = dict(source.slots, p=f"{rng.choice(FIRST)} {rng.choice(LAST)}", l=rng.choice(places),
                     n=str(rng.randint(3, 40)))
        same_inst = rng.random() < 0.5
        if not same_inst:
            slots["i"] = rng.choice(INSTITUTIONS)
        kind = rng.choice([k for k in sorted(KINDS) if k != source.kind])
        evs.append(_Event(len(evs), kind, slots["t"], slots["i"], at, slots))
        hard["same institution, different event same week" if same_inst else "same town, different event within 3 days"] += 1
    for source in list(evs[events // 5: events // 5 + events // 10]):
        slots = dict(source.slots, t=rng.choice(towns), p=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                     l=rng.choice(places))
        evs.append(_Event(len(evs), source.kind, slots["t"], slots["i"], source.at + timedelta(hours=rng.uniform(0, 12)), slots))
        hard["same kind, different town, same day"] += 1
    weeks = int(days // 7) + 1
    beat_towns = towns[: max(3, round(events / 16 / weeks))]  # about one beat per 16 events
    for town in beat_towns:
        for week in range(weeks):
            at = START + timedelta(days=7 * week + 1, hours=18)
            if at > START + timedelta(days=days):
                break
            slots = {"t": town, "i": "council", "p": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                     "l": rng.choice(places), "d": at.strftime("%B %d").replace(" 0", " "), "n": "", "m": ""}
            evs.append(_Event(len(evs), "beat", town, "council", at, slots))
            hard["recurring weekly council meetings (beats)"] += 1
    for source in list(evs[: events // 10]):
        slots = dict(source.slots, l=rng.choice(places))
        evs.append(_Event(len(evs), "stray", source.town, source.inst, source.at + timedelta(hours=rng.uniform(-24, 24)), slots))
        hard["strays sharing a town and institution with an event"] += 1

    drafts: list[tuple[datetime, int, str, str, int, int | None]] = []  # at, source, title, text, event, copy_of (draft index)
    for event in evs:
        if event.kind in ("beat", "stray"):
            cover = rng.sample(range(outlets), 1 if event.kind == "stray" else rng.randint(1, 3))
        else:
            cover = rng.sample(range(outlets), rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 6)))
        for outlet in cover:
            at = event.at + timedelta(hours=rng.uniform(0, 30) if event.kind != "beat" else rng.uniform(0, 6))
            title, text = _write(rng, event, styles[outlet])
            drafts.append((at, outlet, title, text, event.id, None))
            original = len(drafts) - 1
            if event.kind not in ("beat", "stray") and rng.random() < copy_rate:
                for other in rng.sample([o for o in range(outlets) if o not in cover], rng.randint(1, 3)):
                    copy_title, _ = _write(rng, event, styles[other])
                    drafts.append((at + timedelta(minutes=rng.uniform(5, 600)), other, copy_title,
                                   _edit_copy(rng, text, other), event.id, original))
    order = sorted(range(len(drafts)), key=lambda k: (drafts[k][0], k))
    new_id = {old: position + 1 for position, old in enumerate(order)}
    items = []
    for old in order:
        at, outlet, title, text, event_id, copy_of = drafts[old]
        items.append(CorpusArticle(new_id[old], outlet + 1, title, text, at, event_id,
                                   new_id[copy_of] if copy_of is not None else None))
    return Corpus(items, hard, len(evs))


def _fill(template: str, slots: dict[str, str]) -> str:
    return template.format(**slots)


def _write(rng: random.Random, event: _Event, style: tuple[bool, int, float]) -> tuple[str, str]:
    """One outlet's article: its headline template, a subset of the facts in its own order and
    words (synonyms, attributions), its own filler. Sentences that begin with a plain word are
    lower-cased where an attribution or a dateline comes first; names keep their capitals."""
    title_case, preferred, synonym_rate = style
    if event.kind == "beat":
        templates, facts = [BEAT[0]], BEAT[1]
    elif event.kind == "stray":
        templates, facts = STRAY, STRAY_BODY
    else:
        templates, facts = KINDS[event.kind]
    pick = preferred % len(templates) if rng.random() < 0.6 else rng.randrange(len(templates))
    title = _fill(templates[pick], event.slots)
    title = title[:1].upper() + title[1:]
    chosen = list(facts)
    rng.shuffle(chosen)
    written = []
    for template in chosen[: rng.randint(3, 5)]:
        words = []
        for word in _fill(template, event.slots).split():
            options = SYNONYMS.get(word.lower())
            words.append(rng.choice(options) if options and rng.random() < 0.5 + synonym_rate / 2 else word)
        sentence = " ".join(words)
        plain = not template.startswith("{")
        prefix = rng.choice(ATTRIBUTIONS) if rng.random() < 0.6 else ""
        if not written and rng.random() < 0.5:
            prefix = (f"In {event.town}, " + prefix[:1].lower() + prefix[1:]) if prefix else f"In {event.town},"
        if prefix:
            sentence = prefix + " " + (sentence[:1].lower() + sentence[1:] if plain else sentence)
        written.append(sentence[:1].upper() + sentence[1:])
    for _ in range(rng.randint(1, 2)):  # the outlet's own colour: words in no other article's order
        written.insert(rng.randrange(1, len(written) + 1),
                       " ".join(rng.choices(FILLER, k=rng.randint(6, 10))).capitalize() + ".")
    if title_case:
        title = " ".join(w[:1].upper() + w[1:] for w in title.split())
    return title, " ".join(written)


def _edit_copy(rng: random.Random, text: str, outlet: int) -> str:
    sentences = text.split(". ")
    if len(sentences) > 4 and rng.random() < 0.5:
        sentences = sentences[:-1]  # trimmed
    body = ". ".join(sentences)
    byline = f"By {rng.choice(FIRST)} {rng.choice(LAST)}, Outlet {outlet + 1} Staff. "
    footer = " " + rng.choice(FOOTERS).format(o=f"The Outlet {outlet + 1} Times")
    return (byline if rng.random() < 0.5 else "") + body + footer
