"""A fictional newsroom for the demo: a wire service and the local papers that republish it.

Everything here is generated in code from word lists; no real publisher's text. A ``Newsroom``
holds each outlet's latest articles, newest first. Wire stories (from ``WIRE``) are republished
by several papers, each with its own byline style ("By Ada Moreau, The Canadian Wire",
"Canadian Wire staff", or the reporter alone) and its own footer appended; papers also publish
their own local stories. ``tick`` makes news happen; the renderers in ``newswire.testing.samples``
turn an outlet's articles into RSS 2.0, Atom 1.0 or JSON Feed 1.1. Deterministic for a seed and
the times passed in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from newswire.testing import samples
from newswire.testing.samples import FIRST, LAST, OBJECTS, SUBJECTS, TOWNS, VERBS, Outlet, SampleArticle

KEEP = 30  # articles kept in each feed

WIRE_NAME = "The Canadian Wire"
WIRE_SHORT = "Canadian Wire"

# slug, name, home town, feed format, byline style for wire copy
PAPERS = [
    ("port-alder-post", "The Port Alder Post", "Port Alder", "rss", "full"),
    ("maple-harbour-gazette", "The Maple Harbour Gazette", "Maple Harbour", "atom", "staff"),
    ("cedar-falls-chronicle", "Cedar Falls Chronicle", "Cedar Falls", "json", "name"),
    ("granite-bay-herald", "The Granite Bay Herald", "Granite Bay", "rss", "staff"),
    ("lake-ossin-courier", "Lake Ossin Courier", "Lake Ossin", "atom", "full"),
    ("fernwick-tribune", "The Fernwick Tribune", "Fernwick", "json", "full"),
    ("stoneridge-sentinel", "The Stoneridge Sentinel", "Stoneridge", "rss", "name"),
    ("juniper-point-observer", "Juniper Point Observer", "Juniper Point", "atom", "staff"),
]
BYLINE_STYLES = ("full", "staff", "name")

FOOTERS = [
    "{name} — Our website is the place for the latest local news from {town}. "
    "Sign up for our morning newsletter to get the day's headlines first.",
    "Copyright {name}. Local journalism in {town} depends on readers like you: subscribe today.",
    "{name} is {town}'s independent newsroom. Send us your news tips; we read every one.",
    "Read more local coverage at {name}. Have a story idea from {town}? Tell our newsroom.",
]

WIRE_TOPICS = ["provincial ministry", "federal agency", "rail operator", "energy regulator",
               "wildfire service", "fisheries board", "university network", "health authority",
               "airport authority", "housing agency"]
CONCERNS = ["traffic", "housing costs", "flooding", "noise", "parking", "accessibility",
            "property taxes", "wait times", "road safety", "the shoreline"]
PLACES = ["community centre", "town hall", "public library", "legion hall", "curling club"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SENTENCES = [
    "The {subject} {verb} the {object} after months of consultation, officials said.",
    "\u201cWe heard from a lot of residents, and this reflects what they told us,\u201d said {person}, "
    "a spokesperson for the {subject}.",
    "The {object} carries an estimated cost of ${millions} million, according to documents released on {weekday}.",
    "Critics, including {person}, argued the change does little to address concerns about {concern}.",
    "A public meeting is scheduled for next {weekday} at the {place} in {town}.",
    "The province has not said whether it will contribute funding.",
    "{person}, who has followed the file for years, called the decision \u201clong overdue.\u201d",
    "A similar measure was adopted in {town2} last year, with mixed results.",
    "Staff are expected to report back with a timeline before the end of the season.",
    "Residents can comment on the proposal online until the end of the month.",
    "The vote passed {votes_for} to {votes_against} after a debate that ran past midnight.",
    "Local business owners said they would wait for details before taking a position.",
]


@dataclass(frozen=True)
class Paper:
    """An outlet of the demo: where its feed lives, in which format, how it credits wire copy."""

    outlet: Outlet
    town: str
    format: str  # "rss", "atom" or "json"
    byline_style: str  # "full", "staff" or "name" (only the reporter), for wire copy
    footer: str


@dataclass(frozen=True)
class WireStory:
    slug: str
    title: str
    reporter: str
    dateline: str
    paragraphs: tuple[str, ...]
    published: datetime


class Newsroom:
    """The wire service and its papers, with each outlet's latest articles."""

    def __init__(self, base_url: str, seed: int = 0):
        self.rng = random.Random(seed)
        self.wire = Paper(Outlet("canadian-wire", WIRE_NAME, f"{base_url}/canadian-wire/"),
                          "Ottawa", "rss", "name", "")
        self.papers = [
            Paper(Outlet(slug, name, f"{base_url}/{slug}/"), town, fmt, style,
                  FOOTERS[i % len(FOOTERS)].format(name=name, town=town))
            for i, (slug, name, town, fmt, style) in enumerate(PAPERS)
        ]
        self.articles: dict[str, list[SampleArticle]] = {p.outlet.slug: [] for p in self.outlets}
        self.wire_stories: list[WireStory] = []
        self._count = 0

    @property
    def outlets(self) -> list[Paper]:
        """The wire's own feed first, then the papers."""
        return [self.wire, *self.papers]

    # news happening

    def backlog(self, now: datetime, wire_stories: int = 6, own_stories: int = 3) -> None:
        """Fill the feeds with the last few hours of news, oldest first, ending at ``now``."""
        events = ["wire"] * wire_stories + ["own"] * (own_stories * len(self.papers))
        self.rng.shuffle(events)
        span = timedelta(hours=3)
        for i, event in enumerate(events):
            moment = now - span + span * (i + 1) / len(events)
            if event == "wire":
                self.publish_wire_story(moment)
            else:
                self.publish_own_story(self.rng.choice(self.papers), moment)

    def tick(self, now: datetime) -> set[str]:
        """Some news at ``now``: a wire story republished by several papers, or a paper's own
        story. Returns the slugs of the outlets whose feeds changed."""
        if self.rng.random() < 0.4:
            return self.publish_wire_story(now)
        paper = self.rng.choice(self.papers)
        self.publish_own_story(paper, now)
        return {paper.outlet.slug}

    def publish_wire_story(self, now: datetime) -> set[str]:
        """A new wire story on the wire's feed and in 3 to 5 papers, at least one of each byline
        style; the wire moved it a few minutes before ``now``, the papers since."""
        story = self._wire_story(now - timedelta(seconds=self.rng.randint(30, 300)))
        self.wire_stories.append(story)
        self._add(self.wire, self._wire_copy(story, self.wire, story.published))
        chosen = [self.rng.choice([p for p in self.papers if p.byline_style == style]) for style in BYLINE_STYLES]
        others = [p for p in self.papers if p not in chosen]
        chosen += self.rng.sample(others, self.rng.randint(0, 2))
        for paper in chosen:
            delay = (now - story.published) * self.rng.random()
            self._add(paper, self._wire_copy(story, paper, story.published + delay))
        return {self.wire.outlet.slug} | {p.outlet.slug for p in chosen}

    def publish_own_story(self, paper: Paper, now: datetime) -> None:
        rng = self.rng
        self._count += 1
        title = f"{paper.town} {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        authors = tuple(self._person() for _ in range(rng.choice([1, 1, 1, 2])))
        paragraphs = self._paragraphs(paper.town, title)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        footer = f"\n<p><em>{escape(paper.footer)}</em></p>"
        self._add(paper, SampleArticle(
            guid=f"{paper.outlet.site_url}news/{self._count}",
            url=f"{paper.outlet.site_url}news/{self._count}.html",
            title=title, authors=authors, published=now, summary=paragraphs[0],
            content_html=body + footer, categories=("Local",)))

    # wording

    def _wire_story(self, now: datetime) -> WireStory:
        rng = self.rng
        self._count += 1
        town = rng.choice(TOWNS)
        title = f"{rng.choice(WIRE_TOPICS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} in {town}"
        return WireStory(f"wire-{self._count}", title, self._person(), town.upper(),
                         tuple(self._paragraphs(town, title)), now)

    def _wire_copy(self, story: WireStory, paper: Paper, published: datetime) -> SampleArticle:
        """One outlet's copy of a wire story: same text, its own byline, URL and footer."""
        credit = {
            "full": (f"By {story.reporter}, {WIRE_NAME}", f"By {story.reporter}, {WIRE_NAME}"),
            "staff": (f"{WIRE_SHORT} staff", f"{WIRE_SHORT.upper()} STAFF"),
            "name": (story.reporter, f"{story.reporter} \u2014 {WIRE_NAME}"),
        }
        author, byline = credit[paper.byline_style]
        first, *rest = story.paragraphs
        body = [f"<p><strong>{escape(byline)}</strong></p>",
                f"<p>{escape(story.dateline)} \u2014 {escape(first)}</p>",
                *(f"<p>{escape(p)}</p>" for p in rest)]
        if paper.footer:
            body.append(f"<p><em>{escape(paper.footer)}</em></p>")
        return SampleArticle(
            guid=f"{paper.outlet.site_url}{story.slug}",
            url=f"{paper.outlet.site_url}{story.slug}.html",
            title=story.title, authors=(author,), published=published, summary=first,
            content_html="\n".join(body), categories=("Wire",))

    def _person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def _paragraphs(self, town: str, title: str) -> list[str]:
        rng = self.rng
        slots = dict(town=town, town2=rng.choice([t for t in TOWNS if t != town]),
                     subject=rng.choice(SUBJECTS), verb=rng.choice(VERBS), object=rng.choice(OBJECTS),
                     concern=rng.choice(CONCERNS), place=rng.choice(PLACES), weekday=rng.choice(WEEKDAYS),
                     millions=rng.randint(2, 90), votes_for=rng.randint(5, 9), votes_against=rng.randint(1, 4))
        lead = (f"{title} \u2014 a move {rng.choice(['residents', 'officials', 'observers'])} in {town} "
                f"say will shape the {rng.choice(['coming year', 'next decade', 'summer season'])}.")
        picked = rng.sample(SENTENCES, 6)
        sentences = [s.format(person=self._person(), **slots) for s in picked]
        return [lead] + [" ".join(sentences[i:i + 2]) for i in range(0, len(sentences), 2)]

    def _add(self, paper: Paper, article: SampleArticle) -> None:
        feed = self.articles[paper.outlet.slug]
        feed.insert(0, article)
        feed.sort(key=lambda a: a.published, reverse=True)
        del feed[KEEP:]

    # feeds

    def feed_path(self, paper: Paper) -> str:
        return f"/{paper.outlet.slug}/" + {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}[paper.format]

    def render(self, paper: Paper) -> tuple[str, str]:
        """The outlet's feed document and its content type."""
        articles = self.articles[paper.outlet.slug]
        if paper.format == "atom":
            return samples.atom(paper.outlet, articles), "application/atom+xml; charset=utf-8"
        if paper.format == "json":
            return samples.json_feed(paper.outlet, articles), "application/feed+json; charset=utf-8"
        return samples.rss(paper.outlet, articles), "application/rss+xml; charset=utf-8"

    def paper(self, slug: str) -> Paper:
        return next(p for p in self.outlets if p.outlet.slug == slug)
