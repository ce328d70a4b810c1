"""The words and names story clustering compares: significant words and named entities.

Kept apart from the clusterer so the clusterer is about grouping, and these rules about reading
text can be tested (and changed) on their own.
"""

from __future__ import annotations

import functools
import re
from itertools import chain
from dataclasses import dataclass

from newswire.enrich.dedupe import Boilerplate, normalise, unit_key, unit_parts

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no nor not
now of off on once only or other our ours out over own same she should so some such than that the
their them then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours said says say new one two three year
years week weeks day days monday tuesday wednesday thursday friday saturday sunday today yesterday
tomorrow january february march april june july august september october november december
according told may might must shall upon amid via per us its it's """.split())

# The words of an article story clustering reads. Two events of one kind (two arrests of one
# team's players, two quakes in one province) share their first paragraph's words; their details
# (who, where, how many) run on past it. ECB+ F1 (bench/story_eval.py, the weights refitted each
# time): 150 words 0.886, 250 0.895, 400 0.905. The price: on 5 KB articles the story step costs
# about 780 us instead of 460 us.
LEAD_WORDS = 400

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_SENTENCE_ENDS = ".!?:;"  # a token ending so ends its sentence
_AROUND_WORDS = "\"'“”‘’()[],.;:!?`"  # quotes and punctuation around a word


def stem(word: str) -> str:
    """A light suffix stripper (plural, -ing, -ed): enough to meet "delays"/"delayed"."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: len(word) - len(suffix)] + keep
    return word


def significant_words(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` without stopwords, digits-only tokens kept."""
    return list(filter(None, map(_significant, _WORD.findall(text.lower()))))


@functools.lru_cache(maxsize=1 << 16)
def _significant(raw: str) -> str:
    """One lower-cased token's stem, or "" for a stopword or a one-letter token. Memoised: a
    newswire's vocabulary repeats from article to article, and this ran a million times a
    pass."""
    raw = raw.replace("’", "'").split("'")[0]
    if len(raw) < 2 or raw in STOPWORDS:
        return ""
    return stem(raw)


def is_title_case(text: str) -> bool:
    """Most words capitalised: capitals say nothing about names in such a headline."""
    tokens = text.split()
    return bool(tokens) and sum(1 for t in tokens if t[:1].isupper()) > 0.6 * len(tokens)


def named_entities(text: str, *, is_title: bool = False) -> set[str]:
    """Capitalised word sequences, lower-cased: "Maple Harbour". A single capitalised word at a
    sentence's start is not one ("Council voted"); a longer run there is ("Maple Harbour voted").

    A headline in Title Case capitalises every word, so when most of a title's words are
    capitalised it yields no entities (its words still count as title words)."""
    if is_title and is_title_case(text):
        return set()
    return names_in(text.split())


def names_in(tokens: list[str]) -> set[str]:
    """``named_entities`` of a text split into ``tokens`` (on whitespace)."""
    found: set[str] = set()
    run: list[str] = []
    run_at_start = False  # a run that began a sentence counts only if it has two words or more

    def close() -> None:
        if run and (len(run) > 1 or not run_at_start):
            found.add(" ".join(run))
        run.clear()

    after = -2  # the index after the run's last token: a capitalised token there continues it
    # Only capitalised tokens are looked at one by one, the others (most of a text) are passed
    # over in one comprehension: as a loop over every token this was a quarter of story
    # clustering's cost once it read 400 words of each article.
    for i in [i for i, token in enumerate(tokens)  # strip only what opens with a quote or bracket
              if token[:1].isupper() or (token[:1] in _AROUND_WORDS and token.strip(_AROUND_WORDS)[:1].isupper())]:
        if i != after:  # a lower-case word came between: the run ended there
            close()
        token = tokens[i]
        word = token.strip(_AROUND_WORDS).lower()
        after = i + 1
        if word in STOPWORDS:  # "The", "In": ends a run, starts none
            close()
            continue
        if not run:
            run_at_start = i == 0 or tokens[i - 1][-1:] in _SENTENCE_ENDS
        run.append(word)
        if token[-1:] in ",;:.!?":
            close()
    close()
    return found


def with_surnames(names: set[str]) -> set[str]:
    """``names`` and the last word of each longer one: a report names a person in full once and
    by surname after ("Reggie Bush ... Bush said"), and another report may use the surname only.
    Without it, two reports of one event could share fewer names than two events of one kind
    (see ``StoryClusterer._member`` for what it changed). A generic last word ("Act",
    "Harbour") is in many articles, and a one-word name that common stops counting as a name."""
    return names | {name.rsplit(" ", 1)[1] for name in names if " " in name}


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# not May: a name as often as a month ("Theresa May said")
_MONTHS = ("january", "february", "march", "april", "june", "july", "august", "september", "october",
           "november", "december")
# the day or month a word names, by its first three letters ("Sept." is September's "sep")
_WHEN = {word: word[:3] for word in _DAYS + _MONTHS} | {month[:3]: month[:3] for month in _MONTHS} | {"sept": "sep"}
_YEAR = re.compile(r"(?:19|20)\d\d")


def when_in(tokens: list[str]) -> frozenset[str]:
    """The days, months and years a text split into ``tokens`` names ("wed", "mar", "2009"):
    when its event happened. Two reports of one event name the same day; two events of one kind
    (two earthquakes, two arrests of one team's players) rarely do, and their texts can share
    every other word. Days and months count when capitalised, as English writes them ("march" is
    also a verb); a day's short form is not taken ("Sun", "Sat", "Wed" are words and papers)."""
    found = set()
    for token in [t for t in set(tokens) if t[:1].isupper() or t[:1].isdigit()]:  # each distinct token once
        word = token.strip(_AROUND_WORDS).lower()
        day = _WHEN.get(word)
        if day is not None:
            found.add(day)
        elif len(word) == 4 and _YEAR.fullmatch(word):
            found.add(word)
    return frozenset(found)


def lead_of(text: str, words: int) -> str:
    """The first ``words`` words of an article's text (the rest of it left unsplit)."""
    return " ".join(text.split(None, words)[:words])


def _parts(text: str) -> list[tuple[str, str]]:
    """A text's units (``unit_parts``): what the copy detector's ``Boilerplate`` learns; each
    with its normalised form (made once), empty ones left out."""
    found = unit_parts(text)
    return [(part, unit) for part, unit in zip(found, map(normalise, found)) if unit]


@dataclass(frozen=True, slots=True)
class LeadText:
    """An article's lead as story clustering reads it: its units (``_parts``), each one's key
    for ``Boilerplate`` and its significant words. Made by ``LeadText.of``, in the parse
    workers for the articles they parse (``service.prepared``): the splitting, hashing and
    tokenising were a third of the enrichment's time in the writer's process, where the event
    loop, the writes and the enrichment share one GIL."""

    parts: tuple[str, ...]
    keys: tuple[int, ...]
    words: tuple[tuple[str, ...], ...]  # () when made without them
    # the names in all the parts (``names_in`` of their first ``LEAD_WORDS`` words, as story
    # clustering reads a lead), or None when made without the words: what the lead names when
    # no part of it is boilerplate, as most leads (nine in ten of ``bench/memory.py``'s)
    names: frozenset[str] | None = None
    when: frozenset[str] | None = None  # ``when_in`` of the same words, like ``names``

    @classmethod
    def of(cls, lead: str, *, with_words: bool = True) -> LeadText:
        """``lead``: ``lead_of(text, LEAD_WORDS)``, as story clustering reads an article."""
        parts = _parts(lead)
        texts = tuple(part for part, _ in parts)
        keys = tuple(unit_key(unit) for _, unit in parts)
        if not with_words:
            return cls(texts, keys, ())
        tokens = "\n".join(texts).split()[:LEAD_WORDS]
        return cls(texts, keys, tuple(tuple(significant_words(part)) for part in texts),
                   frozenset(names_in(tokens)), when_in(tokens))

    def kept(self, boilerplate: Boilerplate, source_id: int, doc_id: int
             ) -> tuple[str, list[str], frozenset[str] | None, frozenset[str] | None]:
        """The lead without the lines its source repeats in article after article (footers,
        newsletter pitches, staff bylines), learning them as it goes (a paper's footer names the
        paper and its town, and would make all its stories share two names); the kept lines'
        significant words, the same as ``significant_words`` of that text would give; and
        their names and dates when every line is kept and they were found beforehand (``names``,
        ``when``), else None (they are to be found in the text)."""
        keep = boilerplate.learn_and_keep_keys(source_id, doc_id, self.keys)
        if all(keep):  # as for most leads: every part's words, flattened in C
            return "\n".join(self.parts), list(chain.from_iterable(self.words)), self.names, self.when
        text = "\n".join(part for part, kept in zip(self.parts, keep) if kept)
        return text, [word for words, kept in zip(self.words, keep) if kept for word in words], None, None
