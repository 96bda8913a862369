"""The labelled set for story assignment: copies, stories and distractors, generated at run time.

:func:`build_set` returns a list of :class:`LabelledArticle` in publication order (as a crawl meets them), each
an article as story assignment sees it (:meth:`LabelledArticle.story_article`) with its labels: the copy group
(the same text published again, ``None`` for an article that is nobody's copy), the story (the write-ups of one
event), the expected origin and credit, and the kind(s) of transformation that made it. Everything is derived
from a seed (``random.Random``), with no network: the same ``(size, seed)`` gives the same set, byte for byte.

Where the texts come from
-------------------------
- **The seed story** (kind ``seed``): the outlets' fixture pages (``fixtures/<outlet>/web/``) reconstructed
  from ``../shared/seeds/`` 000-004, labelled so (:attr:`LabelledArticle.reconstructed` names the seeds, see
  :data:`SEED_RECONSTRUCTED`; the Axios page is itself rebuilt from inkl's republication, seed 002: no capture
  of Axios's own page exists), extracted with :func:`pipelines.extract.extract_article` as the capture
  path would (title, standfirst, body, credited source, publication time): Axios's report, inkl republishing
  it, Al Mayadeen rewriting it with "Source: Axios" (one copy group, Axios the origin), NDTV carrying AFP's
  report (no other copy archived: copy group ``None``, origin AFP, credited) and JNS's own piece, all one
  story. The other articles of those five fixtures (kind ``fixture``, the project's synthetic pages) are their
  own stories, except inkl's two word-for-word copies of Axios stories, each a copy group with its Axios
  original (origin Axios).
- **Originals** (kind ``original``): real articles of ``../shared/corpora``, read from their ground truth: the
  English fundus-test-data pages (title, summary as standfirst, section paragraphs, publication date, outlet)
  and the English article-extraction-benchmark pages (``articleBody`` paragraphs; title from the page's
  ``og:title``/``<title>``, date from ``article:published_time`` or the URL, else a time in the capture week
  of November 2019). Pages with fewer than 150 words or 3 paragraphs, not in English, or whose story is
  ambiguous (:data:`EXCLUDED`: roundups that carry another page's story) are left out. Eight real events that
  several benchmark pages report (:data:`REAL_STORIES`: e.g. NASA's lunar landers at Al Jazeera, Space.com and
  SpaceNews) are labelled one story each (kind ``real-same-event``): real hard positives for stories. An
  original whose page credits a wire agency (a dateline such as "LONDON (AP) —", found by
  :func:`pipelines.extract.syndication.detect_source`) makes an agency copy group (origin the agency), and a
  few others are made so (:data:`AGENCY_SHARE`): "(AFP) — " is put before their first paragraph.
- **Copies** of an original, published 20 minutes to 30 hours after it at fictional outlets
  (:data:`OUTLETS`, ``.example`` domains), each made by one or more transformations, its kinds:

  ``verbatim``      the same title, standfirst and body, no credit;
  ``trimmed``       the last paragraphs dropped (35-75% of them kept, at least two);
  ``excerpt``       a contiguous 25-50% of the paragraphs (at least 50 words), no standfirst;
  ``boilerplate``   the outlet's text around it: an advertisement marker, a "Read more: <another headline>"
                    line, a newsletter prompt, a support appeal, a "Related stories" list of three other
                    headlines and a footer — the same outlet puts the same text around every article it
                    carries, each outlet its own phrasing of each part (:data:`BOILERPLATE_VARIANTS`);
  ``headline``      a rewritten headline ("Report: ...", a clause cut, "..., what we know", case changed) and
                    no standfirst;
  ``credit``        a credit: "Source: X" (in ``source`` only, as a byline list shows it), "This article
                    originally appeared on X.", "Republished with permission from X." or a dateline
                    "(AFP) — "; X is the original's outlet (an archived outlet: origin it, credited), the
                    agency of an agency group (origin the agency, credited), or an unknown name of
                    :data:`UNKNOWN_CREDITS` (origin the earliest member, the original; not credited);
  ``reordered``     the paragraphs after the lede permuted in blocks;
  ``dropped``       15-35% of the paragraphs after the lede dropped here and there;
  ``edited``        2-6% of the words changed (synonyms, British/American spelling), inserted ("also",
                    "reportedly", ...) or deleted;
  and combinations of two to five of them (:data:`COPY_SPECS`; an article is counted under each of its kinds
  and under ``combined``).
- **Different write-ups of the same event** (kind ``rewrite``: same story, NOT copies), published from four
  hours before to forty hours after the original at another fictional outlet, synthesized with templates
  (:data:`REWRITE_TEMPLATES`) from the original's facts (:func:`facts`): its people, places and
  organisations (capitalised spans, classified by cue words and a small gazetteer), key words of its headline
  and lede, a number, and one short quote when it has one. They share the event's names, key words and a
  quote, not its wording. They read as filled templates, not as an editor's prose (the heuristics misname a
  few things: "Despite Mr", "the results sales"): they test matching different wording by names and key
  terms; the realistic different write-ups are the ``real-same-event`` pages.
- **Distractors**, their own stories and nobody's copies:

  ``distractor-names``        another event on the same day naming the original's people and places (e.g. a
                              hospital wing or a festival in the same city, with the same person), made
                              with templates (:data:`EVENT_TEMPLATES`); the seed story gets one too;
  ``distractor-brief``        near-identical short pages: an outlet's daily weather, markets or lottery
                              brief on consecutive days (same wording, other numbers; each kind of brief
                              at one outlet, its own template);
  ``distractor-boilerplate``  short notices at an outlet that puts its long boilerplate around them (the
                              same boilerplate as its ``boilerplate`` copies of other stories).

Sizes
-----
``size`` articles exactly (default :data:`DEFAULT_SIZE`, at least :data:`MIN_SIZE`): the seed block
(19 articles), about 5% briefs and boilerplate pages, and families (an original with its copies,
rewrites and distractor) over as many distinct sources as the size allows (one family per four articles),
members added round-robin so every family gets its original first, then its first copy, and so on. With the
default size and seed: see the composition printed by ``python -m evaluation.stories`` (and the module
:mod:`evaluation.stories` docstring).

Licenses
--------
The texts are read at run time from ``../shared`` (fundus-test-data: MIT; article-extraction-benchmark: MIT,
third-party pages captured by Zyte; newspaper4k-testdata, MIT, for the distractors) and from the project's own
fixture pages (``fixtures/``, some reconstructed from the seeds), and transformed in memory; nothing of
``../shared`` is written into the repository. The set is never committed: only this
generator is. Outlet names of copies are fictional (``.example`` domains, reserved for documentation).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from lxml import html as lxml_html

from evaluation.corpora import CORPORA, DEFAULT_CORPORA_DIR
from pipelines.extract import extract_article
from pipelines.extract.syndication import AGENCIES, agency, detect_source
from pipelines.stories import StoryArticle
from pipelines.urls import url_key

DEFAULT_SIZE = 450
MIN_SIZE = 40
DEFAULT_SEED = 0
DEFAULT_FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"

#: the kinds of copy transformation, in the order they are applied
TRANSFORMS = ("verbatim", "trimmed", "excerpt", "dropped", "reordered", "edited", "headline", "credit",
              "boilerplate")
#: every kind an article can carry
KINDS = ("seed", "fixture", "original", "real-same-event", *TRANSFORMS, "combined", "rewrite",
         "distractor-names", "distractor-brief", "distractor-boilerplate")

#: the transformation(s) of each copy, taken in turn (shuffled once per set)
COPY_SPECS: tuple[tuple[str, ...], ...] = (
    ("verbatim",), ("trimmed",), ("excerpt",), ("boilerplate",), ("headline",), ("credit",), ("reordered",),
    ("dropped",), ("edited",),
    ("trimmed", "credit"), ("excerpt", "boilerplate"), ("headline", "edited"), ("reordered", "edited"),
    ("dropped", "credit"), ("excerpt", "headline", "credit"), ("trimmed", "edited", "boilerplate"),
    ("dropped", "reordered", "edited"), ("headline", "credit", "boilerplate"),
    ("trimmed", "headline", "edited", "credit", "boilerplate"),
)

#: real events several article-extraction-benchmark pages report (ids by prefix): one story each
REAL_STORIES = {
    "europa-water-plumes": ("14cc2a0c", "686bb170"),
    "doobie-brothers-tour": ("35b15891", "9cb8224b"),
    "south-dakota-meth-campaign": ("3f65af7b", "776a1c04", "c13b9c0e"),
    "home-depot-earnings": ("51374560", "f8ff621a"),
    "omar-threat-guilty-plea": ("6ebac05f", "7a457a4f"),
    "feather-duvet-lung": ("7bb1ca90", "9eef8162", "bd673bd7"),
    "china-plague-cases": ("8b194530", "ba4dfe2d", "ea25dd7e"),
    "nasa-lunar-landers": ("42aad16b", "c50845a7", "d1c57d78"),
}
#: benchmark pages left out: their story is ambiguous against another page's
EXCLUDED = {
    "fde930b0": "a tech news roundup whose first item is the WeWork story of 1ace8c85",
    "55bb6340": "a markets roundup (Opening Bell)",
    "6a72de37": "snap counts of the game whose fight 08f79376 reports",
    "d605bdef": "Asian markets on the US-China trade talks that 702d1da6 reports the same day",
    "05844573": "an L.A. Auto Show roundup whose items include the VW ID. Space Vizzion that 06ee193d reports",
}

#: newspaper4k's legacy pages (2014, about 90 US and UK sites): the texts of the distractors naming the same people
OTHERS_DIR = "newspaper4k-testdata/legacy-fulltext"

#: share of the other originals made into agency copy groups ("(AFP) — " before the first paragraph)
AGENCY_SHARE = 0.08
MADE_AGENCIES = ("AFP", "Reuters", "AP")
#: credits that name neither an archived outlet nor an agency
UNKNOWN_CREDITS = ("Newsline Syndicate", "Content Exchange Partners", "The Wire Desk Network", "StoryShare Media",
                   "Regional Press Pool")

SEED_OUTLETS = {"axios": "Axios", "inkl": "inkl", "almayadeen": "Al Mayadeen English", "ndtv": "NDTV", "jns": "JNS"}
_AX = "https://www.axios.com/2024/03/"
_INKL = "https://www.inkl.com/news/"
#: the fixture articles: copy group, story, origin, credited
SEED_LABELS: dict[str, tuple[str | None, str, str, bool]] = {
    f"{_AX}27/netanyahu-rafah-delegation-white-house-reversal": ("seed-rafah-axios", "seed-rafah", "axios", False),
    f"{_INKL}in-reversal-netanyahu-sending-delegation-to-white-house-for-rafah-talks":
        ("seed-rafah-axios", "seed-rafah", "axios", True),
    "https://english.almayadeen.net/news/politics/netanyahu-sending-delegation-to-white-house-for-talks-on-rafah-attack":
        ("seed-rafah-axios", "seed-rafah", "axios", True),
    "https://www.ndtv.com/world-news/israel-asks-us-to-reschedule-scrapped-meeting-on-rafah-offensive-plans-5326000":
        (None, "seed-rafah", "AFP", True),
    "https://www.jns.org/days-after-canceled-israeli-delegation-to-dc-parties-to-reschedule-rafah-talks/":
        (None, "seed-rafah", "", False),
    f"{_AX}27/home-insurance-premiums-hail-states-survey": ("fixture-hail-axios", "fixture-hail", "axios", False),
    f"{_INKL}home-insurance-premiums-jump-most-in-hail-prone-states":
        ("fixture-hail-axios", "fixture-hail", "axios", True),
    f"{_AX}28/data-centers-power-demand-utility-forecasts":
        ("fixture-datacenters-axios", "fixture-datacenters", "axios", False),
    f"{_INKL}data-centers-push-utilities-to-rewrite-their-power-forecasts":
        ("fixture-datacenters-axios", "fixture-datacenters", "axios", True),
}
SEED_STORY = "seed-rafah"
#: the fixture pages reconstructed from the seed texts (fixtures/<outlet>/README.md), and from which: the others
#: of the fixtures are the project's synthetic pages
SEED_RECONSTRUCTED = {
    f"{_AX}27/netanyahu-rafah-delegation-white-house-reversal": "seed 002 (inkl's republication of it)",
    f"{_INKL}in-reversal-netanyahu-sending-delegation-to-white-house-for-rafah-talks": "seed 002",
    "https://english.almayadeen.net/news/politics/netanyahu-sending-delegation-to-white-house-for-talks-on-rafah-attack":
        "seeds 000 and 001",
    "https://www.ndtv.com/world-news/israel-asks-us-to-reschedule-scrapped-meeting-on-rafah-offensive-plans-5326000":
        "seed 003",
    "https://www.jns.org/days-after-canceled-israeli-delegation-to-dc-parties-to-reschedule-rafah-talks/": "seed 004",
}


@dataclass(frozen=True)
class Outlet:
    """A fictional outlet that carries copies, rewrites and distractors."""

    id: str
    site: str
    domain: str
    utc_offset: float  # hours
    newsletter: str


OUTLETS = (
    Outlet("harborledger", "Harbor Ledger", "harborledger.example", -5, "The Morning Ledger"),
    Outlet("northfielddaily", "Northfield Daily", "northfielddaily.example", -6, "Daily Briefing"),
    Outlet("riversidepost", "Riverside Post", "riversidepost.example", 0, "Post Essentials"),
    Outlet("lakesidechronicle", "Lakeside Chronicle", "lakesidechronicle.example", 1, "Chronicle Today"),
    Outlet("metrobrief", "Metro Brief", "metrobrief.example", 0, "The Brief"),
    Outlet("globalnewsroom", "Global Newsroom", "globalnewsroom.example", 2, "World in Five"),
    Outlet("pacificrecord", "Pacific Record", "pacificrecord.example", -8, "Record Roundup"),
    Outlet("summitherald", "Summit Herald", "summitherald.example", -7, "Herald Headlines"),
    Outlet("capitalcourier", "Capital Courier", "capitalcourier.example", -5, "Courier Daily"),
    Outlet("eveningreview", "The Evening Review", "eveningreview.example", 0, "Evening Edition"),
    Outlet("coastlinenews", "Coastline News", "coastlinenews.example", 10, "Coastline Morning"),
    Outlet("valleytribune", "Valley Tribune", "valleytribune.example", 5.5, "Tribune First"),
    Outlet("prairiegazette", "Prairie Gazette", "prairiegazette.example", -6, "Gazette Digest"),
    Outlet("baybulletin", "Bay Bulletin", "baybulletin.example", 8, "Bulletin Daily"),
    Outlet("dailyaggregator", "The Daily Aggregator", "dailyaggregator.example", 0, "Aggregator AM"),
    Outlet("worldwirereader", "World Wire Reader", "worldwirereader.example", 3, "Wire Reader"),
)
_OUTLET_BY_ID = {o.id: o for o in OUTLETS}


@dataclass(frozen=True)
class LabelledArticle:
    """An article of the set: what story assignment is given, and what it should find."""

    outlet: str
    url: str
    url_key: str
    record_id: str
    published: str  # ISO 8601 with its offset
    fetched: str  # ISO 8601, UTC ("Z"), as a WARC-Date
    title: str
    standfirst: str
    body: str  # paragraphs, one per line
    source: str  # the credited source as the extractor would give it, else the outlet's own name
    site_name: str
    # labels
    copy_group: str | None  # shared by copies of one text; None: nobody's copy
    story: str  # shared by the write-ups of one event
    origin: str  # expected origin: an outlet id or an agency ("AFP"); "" = its own (not a copy, not credited)
    kind: tuple[str, ...]  # the transformation(s) or role, for per-kind reporting
    credited: bool  # whether the article credits its origin (expected)
    corpus: str = ""  # where its text comes from: fixtures, fundus, aeb, synthetic
    reconstructed: str = ""  # a fixture page reconstructed from seed texts: which ("seed 003"); else ""
    derived_from: str = ""  # record_id of the article its text was made from (copies, rewrites, distractors)

    def story_article(self) -> StoryArticle:
        """What the system under test is given (no labels)."""
        return StoryArticle(
            outlet=self.outlet, url_key=self.url_key, record_id=self.record_id, url=self.url,
            published=self.published, fetched=self.fetched, title=self.title, standfirst=self.standfirst,
            body=self.body, source=self.source, site_name=self.site_name,
        )

    @property
    def text(self) -> str:
        """Title, standfirst and body, one per line."""
        return "\n".join(x for x in (self.title, self.standfirst, self.body) if x)


# ---------------------------------------------------------------- text helpers

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [w.lower() for w in _WORD.findall(text or "")]


def shingle_set(text: str, n: int = 5) -> set[tuple[str, ...]]:
    """The word n-grams of a text (one shingle of all its words when it has fewer than n)."""
    tokens = words(text)
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def containment(part: str, whole: str, n: int = 5) -> float:
    """Share of ``part``'s shingles found in ``whole`` (0 for an empty part)."""
    a = shingle_set(part, n)
    return len(a & shingle_set(whole, n)) / len(a) if a else 0.0


def jaccard(a: str, b: str, n: int = 5) -> float:
    """The Jaccard similarity of two texts' word n-gram sets."""
    sa, sb = shingle_set(a, n), shingle_set(b, n)
    return len(sa & sb) / len(sa | sb) if sa or sb else 0.0


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def _slug(text: str, limit: int = 8) -> str:
    return "-".join(words(text)[:limit]) or "article"


# ---------------------------------------------------------------- sources


@dataclass
class Source:
    """A real article an original is made from."""

    id: str  # corpus:page id
    corpus: str
    outlet: str
    site_name: str
    url: str
    title: str
    standfirst: str
    paragraphs: list[str]
    published: datetime
    story: str = ""  # a REAL_STORIES key, else ""
    credit: str = ""  # a wire agency the page credits


def _paragraphs(lines: Iterable[str]) -> list[str]:
    return [p for p in (_clean(line) for line in lines) if p]


_STOP = frozenset("""a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself yourselves said says say told according
one two three four five new last first year years week weeks time times people like many much may might must us
get got make made also just still even well back since already another every including around across""".split())


def _english(text: str) -> bool:
    tokens = re.findall(r"[a-z']+", text.lower())
    return bool(tokens) and sum(t in _STOP for t in tokens) / len(tokens) > 0.2


def _eligible(title: str, paragraphs: list[str]) -> bool:
    text = " ".join(paragraphs)
    return bool(title) and len(paragraphs) >= 3 and len(text.split()) >= 150 and _english(text)


def _outlet_id(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    host = re.sub(r"^(www|m|edition|english)\.", "", host)
    labels = host.split(".")
    core = labels[:-1] if len(labels) > 1 else labels
    if len(core) > 1 and core[-1] in {"co", "com", "org", "net"}:
        core = core[:-1]
    return re.sub(r"[^a-z0-9]+", "", "".join(core[-2:] if core[0] in {"hosted", "blog"} else core[-1:])) or "other"


def _parse_when(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    value = value.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", value) else value
    value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value.replace("Z", "+00:00"))
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _stable_fraction(*parts: object) -> float:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def load_fundus_sources(root: Path) -> list[Source]:
    """English fundus pages with their expected title, summary, paragraphs, date and outlet."""
    sources = []
    for row in json.loads((root / "manifest.json").read_text("utf-8")):
        if not row.get("english"):
            continue
        expected = json.loads((root / row["expected"]).read_text("utf-8"))[row["version_key"]]
        body = expected.get("body", {})
        lines: list[str] = []
        for section in body.get("sections", []):
            lines += section.get("headline", []) + section.get("paragraphs", [])
        paragraphs = _paragraphs(lines)
        title = _clean(expected.get("title", ""))
        published = _parse_when(expected.get("publishing_date", ""))
        crawled = _parse_when(row.get("crawl_date", ""))
        if crawled and (published is None or crawled - published > timedelta(days=60)):
            published = crawled.replace(microsecond=0)  # an old page updated since: the text is of the crawl
        if not _eligible(title, paragraphs) or published is None:
            continue
        domain = row.get("domain") or row.get("url", "")
        site = row.get("outlet_name") or _outlet_id(domain)
        sources.append(Source(
            f"fundus:{row['html']}", "fundus", _outlet_id(domain), site, row["url"], title,
            _clean(" ".join(body.get("summary", []))), paragraphs, published,
        ))
    return sources


def _page_meta(path: Path) -> tuple[str, str, str]:
    """og:title (or <title>), og:site_name and article:published_time of a gzipped UTF-8 page."""
    doc = lxml_html.document_fromstring(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))

    def meta(prop: str) -> str:
        values = doc.xpath(f'//meta[@property="{prop}"]/@content')
        return _clean(values[0]) if values else ""

    title = meta("og:title") or _clean(doc.findtext(".//title") or "")
    parts = [p.strip() for p in title.split(" | ")]
    title = max(parts, key=len) if len(parts) > 1 else title
    if " - " in title and len(title.rsplit(" - ", 1)[1].split()) <= 3:
        title = title.rsplit(" - ", 1)[0]
    return title, meta("og:site_name"), meta("article:published_time")


def load_aeb_sources(root: Path) -> list[Source]:
    """English article-extraction-benchmark pages: ground-truth paragraphs, title and date from the page."""
    truth = json.loads((root / "ground-truth.json").read_text("utf-8"))
    story_of = {prefix: story for story, prefixes in REAL_STORIES.items() for prefix in prefixes}
    sources = []
    for key, item in sorted(truth.items()):
        if key[:8] in EXCLUDED:
            continue
        paragraphs = _paragraphs((item.get("articleBody") or "").split("\n"))
        if len(" ".join(paragraphs).split()) < 150 or not _english(" ".join(paragraphs)):
            continue
        url = item.get("url", "")
        title, site, when = _page_meta(root / "html" / f"{key}.html.gz")
        if not _eligible(title, paragraphs):
            continue
        published = _parse_when(when)
        if published is None:
            dated = re.search(r"/(20\d\d)/(\d\d)/(\d\d)/", url)
            day = datetime(*map(int, dated.groups()), tzinfo=UTC) if dated else datetime(2019, 11, 18, tzinfo=UTC)
            published = day + timedelta(hours=6 + 14 * _stable_fraction(key, "hour"))
        outlet = _outlet_id(url)
        host = re.sub(r"^www\.", "", urlsplit(url).hostname or outlet)
        sources.append(Source(f"aeb:{key}", "aeb", outlet, site or host, url, title, "", paragraphs,
                              published.replace(microsecond=0), story_of.get(key[:8], "")))
    # the pages of one real event are dated within two days of its first dated page
    by_story: dict[str, list[Source]] = {}
    for source in sources:
        if source.story:
            by_story.setdefault(source.story, []).append(source)
    for members in by_story.values():
        first = min(s.published for s in members)
        for s in members:
            if s.published - first > timedelta(days=2):
                s.published = first + timedelta(hours=3 + 30 * _stable_fraction(s.id, "story"))
    return sources


def load_sources(corpora_dir: Path | str = DEFAULT_CORPORA_DIR) -> list[Source]:
    """Every usable real article, fundus first, each with the wire agency its page credits (if any)."""
    root = Path(corpora_dir)
    missing = [root / CORPORA[c] for c in ("fundus", "aeb") if not (root / CORPORA[c]).is_dir()]
    if missing:
        raise FileNotFoundError("the shared corpora are absent: " + ", ".join(map(str, missing)))
    sources = load_fundus_sources(root / CORPORA["fundus"]) + load_aeb_sources(root / CORPORA["aeb"])
    for source in sources:
        credit = detect_source({}, [], source.paragraphs, [], source.site_name)
        source.credit = credit if agency(credit) else ""
        if source.credit and source.outlet == "apnews":
            source.site_name = "AP News"
    return sources


# ---------------------------------------------------------------- facts of an article

_ORG_WORDS = frozenset("""Ministry Department Council University Party Agency Company Corp Corporation Inc Ltd Bank
Committee Court Police Office Association Union Commission Senate House Congress Parliament Government
Administration Group Institute Foundation Service Services Board Club Network News Times Post Authority Federation
Forces Army Navy Force Airlines Airways Church School College Hospital Museum League Cup Records Labs Studios Press
Organization Organisation Security Health Centre Center Fund Trust Society Agency Exchange Markets Motors Media
Guard Reserve Team Unit Project Program Programme Summit Initiative Festival""".split())
_TITLES = frozenset("""President Prime Minister Secretary Sen Senator Rep Representative Gov Governor Gen General Mr
Mrs Ms Dr Chief Judge Justice King Queen Prince Princess Sir Lord Dame Pope Mayor Deputy Former Vice CEO Chairman
Chairwoman Director Professor Prof Coach Captain Officer Spokesperson Spokesman Spokeswoman Commissioner Ambassador
Defense Defence Foreign Interior Health State Attorney Finance Strategic Affairs National Adviser Advisor Press
Leader Speaker Chancellor Premier Detective Sergeant""".split())
_CALENDAR = frozenset("""January February March April May June July August September October November December
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec""".split())
_PLACE_CUES = frozenset("in at near from across outside inside into to towards toward around throughout".split())
_GAZETTEER = frozenset("""US U.S. UK U.K. EU Gaza Israel Washington London Paris Berlin Moscow Beijing China India
Russia Ukraine Kyiv Iran Japan Tokyo Canada Ottawa Australia Sydney Mexico Brazil France Germany Spain Italy Europe
Africa Asia America Britain England Scotland Wales Ireland Pakistan Afghanistan Syria Lebanon Egypt Turkey Jerusalem
Rafah Texas California Florida York Chicago Delhi Mumbai Namibia Tanzania Malaysia Taiwan Philippines Manila Sweden
Norway Denmark Portugal Venezuela Nigeria Kenya Oman Oregon Dakota Mongolia Hong Kong Seoul Korea Vietnam Thailand
Indonesia Singapore Toronto Vancouver Quebec Alberta Ontario Perth Melbourne Auckland Zealand""".split())
_CAP_WORD = re.compile(r"^(?:[A-Z][a-z]+(?:[-'’][A-Za-z][a-z]+)*|[A-Z][a-z]*[A-Z][a-z]+|[A-Z]{2,6}|[A-Z]\.[A-Z]\.)$")
_PLACE_WORDS = frozenset("""City County Province State States Island Islands Valley Bay Street Road River Lake
Mountains Mountain Coast Beach Park Square Bridge Airport Station Stadium Strait Sea Ocean Gulf Peninsula District
Region Village Town Port Harbour Harbor Avenue Hills Desert Canyon""".split())
_TOKEN = re.compile(r"[A-Z]\.(?:[A-Z]\.)+|[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]|\d[\d,.]*%?|[^\w\s]")
_NUMBER = re.compile(r"(?:[$£€]\s?)?\b\d[\d,.]*(?:\s?(?:%|per cent|percent|billion|million|bn|m\b))?")
_QUOTE = re.compile(r"[“\"]([^”\"]{25,220})[”\"]")


@dataclass
class Facts:
    """What a write-up of the same event, or a distractor naming the same people, takes from an article."""

    people: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    quote: str = ""


def _spans(paragraph: str) -> list[tuple[str, bool, str]]:
    """Capitalised spans of a paragraph: (span, at sentence start, previous word)."""
    tokens = [re.sub(r"['’]s$", "", t) for t in _TOKEN.findall(paragraph)]
    spans: list[tuple[str, bool, str]] = []
    current: list[str] = []
    start_of_span = True
    previous = ""
    sentence_start = True
    for i, token in enumerate(tokens + ["."]):
        is_cap = bool(_CAP_WORD.match(token))
        connector = token in {"of", "de", "al", "bin", "van", "von", "del", "la"} and current and i + 1 < len(tokens) \
            and _CAP_WORD.match(tokens[i + 1])
        if is_cap or connector:
            if not current:
                start_of_span = sentence_start
                previous = tokens[i - 1].lower() if i else ""
            current.append(token)
        else:
            if current:
                spans.append((" ".join(current), start_of_span, previous))
                current = []
            sentence_start = token in {".", "!", "?", "“", '"', ":"}
            continue
        sentence_start = False
    return spans


def facts(title: str, paragraphs: Sequence[str], limit: int = 4) -> Facts:
    """People, places, organisations, key words, numbers and a quote of an article (heuristics, no model).

    A capitalised span (connectors such as "of" inside) is a name unless it is one common word starting a
    sentence; leading titles ("Prime Minister") are cut. A span with an organisation word ("Ministry",
    "Council", ...) or in capitals is an organisation; one in the gazetteer or after "in", "at", "from", ...
    a place; one of two or three words a person (a person's surname alone counts as a mention).
    """
    lead = list(paragraphs[:6])
    text = " ".join([title, *lead])
    lower_words = set(re.findall(r"\b[a-z][a-z'’-]+\b", text))
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    place_cued: set[str] = set()
    for paragraph in lead:  # not the headline: headlines capitalise every word
        for span, at_start, previous in _spans(paragraph):
            tokens = span.split()
            while len(tokens) > 1 and (tokens[0] in _TITLES or tokens[0].lower() in _STOP
                                       or tokens[0].lower() in lower_words):
                tokens = tokens[1:]
            while len(tokens) > 1 and (tokens[-1].lower() in _STOP or tokens[-1].lower() in lower_words):
                tokens = tokens[:-1]
            tokens = [t for t in tokens if t not in _CALENDAR] if all(t in _CALENDAR for t in tokens) else tokens
            if not tokens or tokens[0] in _TITLES:
                continue
            name = " ".join(tokens)
            if len(tokens) == 1 and (name.lower() in _STOP or (at_start and name.lower() in lower_words)
                                     or name in {"I", "A"} or len(name) < 2):
                continue
            counts[name] += 1
            first_seen.setdefault(name, len(first_seen))
            if previous in _PLACE_CUES:
                place_cued.add(name)
    people, places, orgs = [], [], []
    for name in sorted(counts, key=lambda n: (-counts[n], first_seen[n])):
        tokens = name.split()
        if any(t in _ORG_WORDS for t in tokens) or (len(tokens) == 1 and name.isupper() and name not in _GAZETTEER):
            orgs.append(name)
        elif (name in _GAZETTEER or any(t in _GAZETTEER or t in _PLACE_WORDS for t in tokens)
              or (name in place_cued and len(tokens) <= 2)):
            places.append(name)
        elif 2 <= len(tokens) <= 3 and not name.isupper():
            people.append(name)
    # a surname mentioned alone makes its person more prominent
    surname_counts = {p: counts[p] + counts.get(p.split()[-1], 0) for p in people}
    people.sort(key=lambda p: (-surname_counts[p], first_seen[p]))
    people = [p for p in people if not any(p != q and p in q for q in people)]
    taken = {t.lower() for n in people + places + orgs for t in n.split()}
    weights: Counter[str] = Counter()
    lead_words = Counter(re.findall(r"\b[a-z][a-z-]{3,}\b(?!['’])", " ".join(lead).lower()))
    for w in re.findall(r"\b[a-z][a-z-]{3,}\b(?!['’])", title.lower()):
        if w not in _STOP and w not in taken and not re.search(r"(?:ed|ly|ing|s's)$", w):
            weights[w] += 2 + min(lead_words[w], 4)
    for w, n in lead_words.items():  # topic words: repeated in the lead
        if n >= 2 and w not in _STOP and w not in taken and not re.search(r"(?:ed|ly|ing)$", w):
            weights[w] += n
    ranked = [w for w, _ in sorted(weights.items(), key=lambda kv: (-kv[1], text.lower().find(kv[0])))][:6]
    body = " ".join(lead)
    keywords = [w if re.search(rf"\b{re.escape(w)}\b", body) or not re.search(rf"\b{re.escape(w.capitalize())}\b", body)
                else w.capitalize() for w in ranked]
    numbers = []
    for match in _NUMBER.finditer(" ".join(lead[:4])):
        value = match.group(0).strip().rstrip(".,")
        if re.search(r"\d", value) and not re.fullmatch(r"(19|20)\d\d", value) and value not in numbers:
            numbers.append(value)
    quote = ""
    for paragraph in paragraphs:
        for match in _QUOTE.finditer(paragraph):
            candidate = _clean(match.group(1)).strip(" ,.")
            if 6 <= len(candidate.split()) <= 30:
                quote = candidate
                break
        if quote:
            break
    return Facts(people[:limit], places[:limit], orgs[:limit], keywords, numbers[:3], quote)


# ---------------------------------------------------------------- templates

#: rewrite templates: headline, lede, quote, fact, background and closing paragraphs (each set cycles through
#: the variants of each part, so two write-ups share as little template text as the set's size allows)
REWRITE_TEMPLATES = {
    "headline": (
        "What we know about the {k1} {k2} involving {P1}",
        "{P1} and the {k1} {k2}: the key facts",
        "{Pl}: {P1} faces questions over {k1} and {k2}",
        "Explained: {P1}, the {k1} and the {k2}",
        "{K1} {k2} puts {P1} in the spotlight",
        "Reaction grows in {Pl} after {k1} {k2}",
        "{P1} at centre of {k1} row as {k2} questions mount",
        "{K1}, {k2} and {P1}: a quick guide",
        "Why the {k1} {k2} matters for {Pl}",
        "{P1}: the {k1} {k2} in five points",
    ),
    "lede": (
        "Questions over the {k1} and the {k2} were growing on {day}, with {P1} at the centre of events in {Pl}.",
        "{P1} has become the focus of attention after the latest {k1} developments in {Pl}.",
        "The {k1} involving {P1} drew fresh attention on {day}, as details of the {k2} emerged from {Pl}.",
        "Developments around the {k1} and the {k2} moved quickly on {day}, and {P1} was again a central figure.",
        "In {Pl}, attention on {day} turned to the {k1} and what the {k2} means for {P1}.",
        "A {k1} {k2} put {P1} back in the headlines on {day}, with officials in {Pl} weighing their response.",
        "{P1} was among the names most discussed in {Pl} on {day} as the {k1} story unfolded.",
        "Here is a summary of the {k1} {k2}, which has kept {P1} in the news this {day}.",
        "News of the {k1} spread fast on {day}; by the afternoon {P1} and the {k2} dominated talk in {Pl}.",
        "For {P1}, {day} brought the {k1} and a fresh round of questions about the {k2} in {Pl}.",
    ),
    "quote": (
        "One account of the events put it this way: “{quote}”",
        "“{quote}” Those words were widely shared on {day}.",
        "As one statement quoted in early reports said: “{quote}”",
        "Reports cited the remark: “{quote}”",
        "The line most repeated on {day} was: “{quote}”",
        "“{quote},” read one widely circulated comment.",
    ),
    "fact": (
        "Accounts of the events said {fact}.",
        "According to early reports, {fact}.",
        "It was reported that {fact}.",
        "Details that emerged later showed {fact}.",
        "One report noted that {fact}.",
        "Coverage elsewhere added that {fact}.",
    ),
    "background": (
        "{P2} did not immediately respond to a request for comment.",
        "Observers in {Pl} said the {k2} could take some time to resolve.",
        "The {k1} follows weeks of debate over the {k3} in {Pl} and beyond.",
        "Analysts expect {O1} and others in {Pl} to watch the {k3} closely.",
        "For {P2}, the {k2} adds to a busy period, people close to the matter said.",
        "Neither {O1} nor {P2} has said what happens next with the {k3}.",
        "The {k3} had been expected for some time, according to people in {Pl}.",
        "Reaction from {O1} was muted at first, while {P2} kept a low profile.",
        "Critics in {Pl} were quick to point to the {k3} as a sign of wider problems.",
        "Supporters of {P2} said the {k2} was being misread.",
    ),
    "closing": (
        "More details are expected in the coming days.",
        "This is a developing story and will be updated.",
        "{Site} will continue to follow the {k1} story.",
        "Further statements were expected later in the week.",
        "It was not immediately clear what the next steps would be.",
        "Read {Site} for further coverage of {Pl}.",
        "",
        "",
    ),
}

#: short daily briefs, near-identical from one day to the next
BRIEF_TEMPLATES = {
    "weather": ("Weather for {city}, {weekday} {date}: {cond}", (
        "{city} can expect {cond} on {weekday}, with a high of {hi}°C and a low of {lo}°C.",
        "Winds will blow from the {wind} at around {w} km/h, and the chance of rain is {rain}%.",
        "{site}'s forecast is updated every morning at 6am. Check back tomorrow for the latest outlook.")),
    "markets": ("Markets close: {index} {dir} {pct}% on {weekday}", (
        "The {index} closed {dir} {pct}% at {points} points on {weekday}.",
        "{sector} stocks led the session's moves, while {sector2} shares ended mixed.",
        "Market data is provided by {site} for information only and may be delayed by up to 15 minutes.")),
    "lottery": ("Lotto results for {weekday} {date}", (
        "The winning numbers in {weekday}'s Lotto draw were {balls}, and the bonus ball was {bonus}.",
        "The jackpot for the draw was {jackpot} and will roll over if no ticket matched all six numbers.",
        "Players should check their tickets carefully. Prizes must be claimed within 180 days of the draw.")),
}

#: short notices a boilerplate-heavy outlet publishes (distractor-boilerplate)
NOTICE_TEMPLATES = (
    "Road closures: {street} will be closed between {h1}am and {h2}pm on {weekday} for resurfacing work.",
    "Library hours: the {street} branch library will stay open until {h2}pm on {weekday}s from next month.",
    "Community calendar: a free concert by the {street} community band starts at {h2}pm on {weekday}.",
    "Recycling update: collections on {street} move from {weekday} to the following day during the holiday week.",
    "Correction: an earlier version of a story about {street} gave the wrong opening time; it is {h1}am.",
)


#: the phrasings of each part of an outlet's boilerplate: every outlet has its own pick of each part (so two
#: outlets may share a common line such as "Advertisement", not the whole of their boilerplate)
BOILERPLATE_VARIANTS: dict[str, tuple[str, ...]] = {
    "top": ("Advertisement", "ADVERTISEMENT", "Story continues below advertisement", "Sponsored content"),
    "newsletter": (
        "Sign up to {newsletter}, {site}'s free daily newsletter, for the day's biggest stories delivered to your "
        "inbox every morning.",
        "Get {newsletter} in your inbox: the headlines that matter, hand-picked by the {site} newsroom each day.",
        "Never miss a story. Subscribe to {newsletter} and receive our editors' picks every weekday.",
        "Want more like this? {newsletter} brings {site}'s best reporting to you, free, five days a week.",
    ),
    "related": ("Related stories", "More on this", "You may also like", "Related coverage", "Most read"),
    "footer": (
        "© {year} {site}. All rights reserved. This material may not be published, broadcast, rewritten or "
        "redistributed without permission. Contact the newsroom at news@{domain}.",
        "Copyright {year} {site}. Have a tip or a correction? Email tips@{domain} or call our newsdesk.",
        "{site} welcomes your feedback: write to editor@{domain}. Reproduction of this article in any form is "
        "prohibited without written consent. © {year}",
        "Content © {site} {year} unless otherwise noted. Our journalists follow the {site} code of ethics; see "
        "{domain}/standards for our corrections policy.",
    ),
    "support": (
        "{site} is independent and reader-funded. Support our journalism from just $1 a month, and get unlimited "
        "access to every story on our site and in our app.",
        "Quality journalism costs money. Become a {site} member today and help keep local reporting alive.",
        "You have read one of your free articles this month. Subscribe to {site} for full digital access.",
        "If you value this reporting, please consider a donation: {site} relies on readers like you.",
    ),
}


def _boilerplate(outlet: Outlet, year: int) -> dict[str, str]:
    """The text an outlet puts around every article it carries (its own pick of each part's phrasings)."""
    slots = {"site": outlet.site, "newsletter": outlet.newsletter, "domain": outlet.domain, "year": year}
    return {part: variants[int(_stable_fraction("boilerplate", outlet.id, part) * len(variants))].format(**slots)
            for part, variants in BOILERPLATE_VARIANTS.items()}


def boilerplate_lines(outlet: Outlet, year: int) -> set[str]:
    """The lines an outlet's boilerplate adds (not the headlines it lists): to take them out again."""
    return set(_boilerplate(outlet, year).values())


# ---------------------------------------------------------------- transformations


@dataclass
class Draft:
    """A text being made: headline, standfirst, paragraphs, and how it is credited."""

    title: str
    standfirst: str
    paragraphs: list[str]
    source: str = ""


_SUBSTITUTIONS = {
    "said": "stated", "says": "states", "about": "around", "big": "large", "large": "big", "help": "assist",
    "show": "indicate", "shows": "indicates", "start": "begin", "started": "began", "buy": "purchase",
    "enough": "sufficient", "need": "require", "needs": "requires", "often": "frequently", "quickly": "rapidly",
    "after": "following", "before": "prior to", "but": "however", "very": "highly", "many": "numerous",
    "color": "colour", "center": "centre", "program": "programme", "organization": "organisation",
    "favorite": "favourite", "analyze": "analyse", "defense": "defence", "percent": "per cent",
    "around": "about", "also": "additionally", "told": "informed", "shortly": "soon", "main": "principal",
}
_INSERTS = ("also", "reportedly", "now", "still", "further", "indeed", "already", "currently")


def _edit(paragraphs: list[str], rng: random.Random, rate: float) -> list[str]:
    out = []
    for paragraph in paragraphs:
        tokens = paragraph.split(" ")
        edited: list[str] = []
        for i, token in enumerate(tokens):
            if i == 0 or rng.random() >= rate:
                edited.append(token)
                continue
            core = token.strip(".,;:!?\"“”'’()")
            replacement = _SUBSTITUTIONS.get(core.lower())
            if replacement:
                edited.append(token.replace(core, replacement if core.islower() else replacement.capitalize()))
            elif rng.random() < 0.5 and core.isalpha() and core.islower():
                continue  # deleted
            else:
                edited.extend([rng.choice(_INSERTS), token])
        out.append(" ".join(edited))
    return out


def _rewrite_headline(title: str, rng: random.Random) -> str:
    cut = re.split(r"[:;,—–]| - ", title)[0].strip()
    options = [f"Report: {title}", f"{title}: what we know", title.upper() if len(title) < 60 else title.lower(),
               f"{cut}" if cut != title and len(cut.split()) >= 3 else f"{title}, sources say",
               f"Breaking: {title}", title.lower().capitalize()]
    choice = rng.choice(options)
    return choice if choice != title else f"Report: {title}"


def _credit_phrase(name: str, rng: random.Random) -> tuple[str, str]:
    """Where a credit goes ("top": only in ``source``, "end": a last line, "dateline") and its text."""
    if agency(name):
        return rng.choice([("dateline", f"({name}) — "), ("top", name), ("end", f"— {AGENCIES[agency(name)][-1]}")])
    return rng.choice([("top", name), ("end", f"This article originally appeared on {name}."),
                       ("end", f"Republished with permission from {name}."),
                       ("end", f"Originally published by {name}.")])


def transform(draft: Draft, kinds: Sequence[str], rng: random.Random, *, credit: str = "",
              outlet: Outlet | None = None, other_titles: Sequence[str] = (), year: int = 2024) -> Draft:
    """A copy of ``draft`` made by ``kinds`` (see the module docstring), credited to ``credit`` if given."""
    title, standfirst, paragraphs = draft.title, draft.standfirst, list(draft.paragraphs)
    n = len(paragraphs)
    if "trimmed" in kinds and n > 2:
        keep = max(2, min(n - 1, round(n * rng.uniform(0.35, 0.75))))
        paragraphs = paragraphs[:keep]
    if "excerpt" in kinds and n > 2:
        size = max(1, min(n - 1, round(n * rng.uniform(0.25, 0.5))))
        start = rng.randrange(0, n - size + 1)
        while sum(len(p.split()) for p in paragraphs[start:start + size]) < 50 and size < n - 1:
            size += 1
            start = min(start, n - size)
        paragraphs = paragraphs[start:start + size]
        standfirst = ""
    if "dropped" in kinds and len(paragraphs) > 3:
        count = max(1, min(len(paragraphs) - 2, round(len(paragraphs) * rng.uniform(0.15, 0.35))))
        gone = set(rng.sample(range(1, len(paragraphs)), count))
        paragraphs = [p for i, p in enumerate(paragraphs) if i not in gone]
    if "reordered" in kinds and len(paragraphs) > 2:
        rest = paragraphs[1:]
        cuts = sorted(rng.sample(range(1, len(rest)), min(len(rest) - 1, rng.choice((1, 2)))))
        blocks = [rest[a:b] for a, b in zip([0, *cuts], [*cuts, len(rest)], strict=True)]
        order = list(range(len(blocks)))
        while order == sorted(order):
            rng.shuffle(order)
        paragraphs = paragraphs[:1] + [p for i in order for p in blocks[i]]
    if "edited" in kinds:
        paragraphs = _edit(paragraphs, rng, rng.uniform(0.02, 0.06))
    if "headline" in kinds:
        title, standfirst = _rewrite_headline(title, rng), ""
    source = draft.source
    if "credit" in kinds and credit:
        where, text = _credit_phrase(credit, rng)
        source = agency(credit) or credit
        if where == "dateline" and not re.match(r"^[^()]{0,80}\(\w+\)\s*[—–-]", paragraphs[0]):
            paragraphs[0] = text + paragraphs[0]
        elif where == "end":
            paragraphs.append(text)
    if "boilerplate" in kinds and outlet is not None:
        plate = _boilerplate(outlet, year)
        titles = list(other_titles) or ["More news"]
        body = [plate["top"], *paragraphs[:3], f"Read more: {titles[0]}", *paragraphs[3:]]
        body.insert(min(len(body), 2 + len(body) // 2), plate["newsletter"])
        body += [plate["support"], plate["related"], *titles[:3], plate["footer"]]
        paragraphs = body
    return Draft(title, standfirst, paragraphs, source)


def _fill(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    return text[0].upper() + text[1:] if text else text


def _slots(f: Facts, rng: random.Random, when: datetime, site: str) -> dict[str, str]:
    people = f.people or f.orgs or ["officials"]
    second = [n for n in f.people[1:] + f.orgs if n != people[0]] or ["others involved"]
    org = [n for n in f.orgs if n not in (people[0], second[0])] or ["officials"]
    keys = f.keywords + ["issue", "plan", "case", "talks"]
    return {
        "P1": people[0], "P2": second[0], "O1": org[0],
        "Pl": f.places[0] if f.places else "the region",
        "k1": keys[0], "k2": keys[1], "k3": keys[2], "K1": keys[0][:1].upper() + keys[0][1:],
        "num": f.numbers[0] if f.numbers else str(rng.randint(3, 90)), "quote": f.quote,
        "day": when.strftime("%A"), "Site": site,
    }


class Cycler:
    """Each part's variants in a shuffled order, again and again: as few repeats as the numbers allow."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.queues: dict[str, list[int]] = {}

    def pick(self, part: str, variants: Sequence[str]) -> str:
        """The next variant of ``part``."""
        queue = self.queues.get(part)
        if not queue:
            queue = self.queues[part] = list(range(len(variants)))
            self.rng.shuffle(queue)
        return variants[queue.pop()]


_CONNECTORS = frozenset("""who which that and but or while when where as because although though if so after before
since until with without including according whose whom nor yet""".split())


def fact_clause(paragraphs: Sequence[str], rng: random.Random) -> str:
    """A short clause (6-12 words, a name or a number in it, no quotation) of the paragraphs after the lede."""
    clauses = []
    for paragraph in paragraphs[1:6]:
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            for clause in re.split(r",\s+|;\s+|\s+[—–]\s+", sentence.strip().rstrip(".!?")):
                tokens = clause.split()
                if 6 <= len(tokens) <= 12 and tokens[0].lower() not in _CONNECTORS \
                        and not re.search(r"[\"“”‘’()]", clause) \
                        and (re.search(r"\d", clause) or any(t[:1].isupper() for t in tokens[1:])):
                    clauses.append(clause)
    if not clauses:
        return ""
    clause = rng.choice(clauses)
    return clause[0].lower() + clause[1:] if clause.split()[0].lower() in _STOP else clause


def rewrite(f: Facts, clause: str, rng: random.Random, cycle: Cycler, when: datetime, site: str) -> Draft:
    """A different write-up of the event ``f`` describes: templates filled with its names and key words, a
    clause of its facts and its quote (when it has one of at most 20 words)."""
    slots = _slots(f, rng, when, site) | {"fact": clause}
    t = REWRITE_TEMPLATES
    paragraphs = [_fill(cycle.pick("lede", t["lede"]), slots)]
    if f.quote and len(f.quote.split()) <= 20:
        paragraphs.append(_fill(cycle.pick("quote", t["quote"]), slots))
    if clause:
        paragraphs.append(_fill(cycle.pick("fact", t["fact"]), slots))
    paragraphs += [_fill(cycle.pick("background", t["background"]), slots) for _ in range(2)]
    paragraphs.append(_fill(cycle.pick("closing", t["closing"]), slots))
    return Draft(_fill(cycle.pick("headline", t["headline"]), slots), "", [p for p in paragraphs if p], site)


@dataclass
class Other:
    """A real article of another event (newspaper4k's legacy pages), to carry a distractor's names."""

    id: str
    title: str
    paragraphs: list[str]
    facts: Facts


def load_others(corpora_dir: Path | str = DEFAULT_CORPORA_DIR) -> list[Other]:
    """newspaper4k legacy-fulltext pages in English with a person or a place to swap: the distractors' texts."""
    root = Path(corpora_dir) / OTHERS_DIR
    if not (root / "txt").is_dir():
        raise FileNotFoundError(f"the shared corpora are absent: {root / 'txt'}")
    others: list[Other] = []
    titles: set[str] = set()
    for path in sorted((root / "txt").glob("*.txt")):
        paragraphs = _paragraphs(path.read_text("utf-8", "replace").split("\n"))
        page = root / "html" / f"{path.stem}.html.gz"
        if not page.is_file() or not _eligible("x", paragraphs):
            continue
        title = _page_meta(page)[0]
        lead: list[str] = []
        for paragraph in paragraphs:
            lead.append(paragraph)
            if len(lead) >= 3 and sum(len(p.split()) for p in lead) >= 90:
                break
        f = facts(title, lead)
        if title in titles:  # the corpus holds a few pages twice (one story at two URLs): once is enough
            continue
        if title and (f.people or f.places) and sum(len(p.split()) for p in lead) <= 320:
            titles.add(title)
            others.append(Other(f"newspaper4k:{path.stem}", title, lead, f))
    return others


def _swap(text: str, old: str, new: str) -> str:
    """``old`` (a name) replaced by ``new``, and a person's surname alone by the new surname."""
    text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    if " " in old and " " in new:
        text = re.sub(rf"\b{re.escape(old.split()[-1])}\b", new.split()[-1], text)
    return text


def other_event(f: Facts, other: Other, site: str) -> Draft:
    """Another event (``other``'s text) naming the people and places of ``f``: a distractor."""
    title, paragraphs = other.title, list(other.paragraphs)
    pairs = []
    if other.facts.people and f.people:
        pairs.append((other.facts.people[0], f.people[0]))
    if other.facts.places and f.places:
        pairs.append((other.facts.places[0], f.places[0]))
    if not pairs:  # nothing to swap: the name goes in front
        name = (f.people or f.places or f.orgs or ["Officials"])[0]
        paragraphs[0] = f"{name} was among those following the news. {paragraphs[0]}"
    for old, new in pairs:
        title = _swap(title, old, new)
        paragraphs = [_swap(p, old, new) for p in paragraphs]
    return Draft(title, "", paragraphs, site)


# ---------------------------------------------------------------- the set


@dataclass
class _Member:
    """An article before record ids and order are given."""

    outlet: str
    site_name: str
    url: str
    published: datetime
    draft: Draft
    copy_group: str | None
    story: str
    origin: str
    kind: tuple[str, ...]
    credited: bool
    corpus: str
    parent: int | None = None  # index (in the member list) of the article it was made from
    fetched_after: float = 0.0  # minutes
    reconstructed: str = ""  # see LabelledArticle.reconstructed


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _in_zone(when: datetime, hours: float) -> datetime:
    return when.astimezone(timezone(timedelta(hours=hours)))


def _outlet_url(outlet: Outlet, when: datetime, title: str, n: int) -> str:
    return f"https://www.{outlet.domain}/news/{when:%Y/%m/%d}/{_slug(title)}-{n}"


def _fixture_file(fixtures_dir: Path, outlet: str, url: str) -> Path:
    parts = urlsplit(url)
    base = fixtures_dir / outlet / "web" / parts.netloc / parts.path.lstrip("/")
    return base / "index.html" if base.is_dir() else base


def seed_members(fixtures_dir: Path = DEFAULT_FIXTURES_DIR) -> list[_Member]:
    """The five seed outlets' fixture articles, extracted from their pages, labelled (see SEED_LABELS)."""
    members = []
    for outlet, site in SEED_OUTLETS.items():
        expected = json.loads((fixtures_dir / outlet / "expected.json").read_text("utf-8"))
        for url in expected["articles"]:
            page = _fixture_file(fixtures_dir, outlet, url)
            article = extract_article(page.read_text("utf-8"), url, site_name=site)
            if article is None:
                raise ValueError(f"no article extracted from the fixture page {page}")
            published = _parse_when(article.published)
            if published is None:
                raise ValueError(f"no publication time on the fixture page {page}")
            group, story, origin, credited = SEED_LABELS.get(url, (None, f"fixture-{_slug(article.title, 5)}", "",
                                                                   False))
            kind = ("seed",) if story == SEED_STORY else ("fixture",)
            members.append(_Member(outlet, site, url, published,
                                   Draft(article.title, article.standfirst, article.body.split("\n"), article.source),
                                   group, story, origin, kind, credited, "fixtures",
                                   reconstructed=SEED_RECONSTRUCTED.get(url, "")))
    return members


def _plan(rng: random.Random) -> list[str]:
    """A family's members after its original, in the order they are added."""
    copies = rng.choices((0, 1, 2, 3, 4), weights=(12, 30, 30, 18, 10))[0]
    extras = [x for x, p in (("rewrite", 0.5), ("distractor", 0.45)) if rng.random() < p]
    plan = ["copy"] * copies
    for extra in extras:
        plan.insert(rng.randint(1 if plan else 0, len(plan)), extra)
    return plan


@dataclass
class _Context:
    """What the families of one set share: copy specs in turn, outlets, headlines, distractor texts, variants."""

    seed: int
    specs: list[tuple[str, ...]]
    titles: list[str]
    others: list[Other]
    cycle: Cycler
    spec_at: int = 0
    agencies_made: int = 0

    def next_agency(self) -> str:
        """The agencies a few originals are made to credit, in turn (AFP, Reuters, AP, AFP, ...)."""
        self.agencies_made += 1
        return MADE_AGENCIES[(self.agencies_made - 1) % len(MADE_AGENCIES)]

    def next_spec(self) -> tuple[str, ...]:
        """The next copy's transformations (the shuffled :data:`COPY_SPECS` in turn)."""
        spec = self.specs[self.spec_at % len(self.specs)]
        self.spec_at += 1
        return spec


def build_set(size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED, corpora_dir: Path | str = DEFAULT_CORPORA_DIR,
              fixtures_dir: Path | str = DEFAULT_FIXTURES_DIR) -> list[LabelledArticle]:
    """``size`` labelled articles in publication order (see the module docstring), the same for the same seed."""
    if size < MIN_SIZE:
        raise ValueError(f"the set needs at least {MIN_SIZE} articles, not {size}")
    rng = random.Random(f"stories-set:{seed}")
    sources = load_sources(corpora_dir)
    others = load_others(corpora_dir)
    rng.shuffle(others)
    members = seed_members(Path(fixtures_dir))

    # a distractor for the seed story: another event that day naming its people and places
    seed_original = next(i for i, m in enumerate(members) if m.story == SEED_STORY and m.outlet == "axios")
    axios = members[seed_original]
    outlet = OUTLETS[0]
    when = _in_zone(axios.published + timedelta(hours=3), outlet.utc_offset)
    members.append(_Member(outlet.id, outlet.site, "", when,
                           other_event(facts(axios.draft.title, axios.draft.paragraphs), others.pop(), outlet.site),
                           None, "seed-distractor", "", ("distractor-names",), False, "synthetic",
                           parent=seed_original))

    # briefs and boilerplate pages: about 5% of the set
    side = max(4, round(size * 0.05))
    members += _briefs(rng, side // 2 + side % 2)
    members += _notices(rng, side // 2)
    budget = size - len(members)

    # families: as many sources as one family per three articles allows (the real events' pages first),
    # their members added round-robin: every original, then every first copy, ...
    rng.shuffle(sources)
    order = {story: i for i, story in enumerate(REAL_STORIES)}
    real = sorted((s for s in sources if s.story), key=lambda s: (order[s.story], s.id))
    chosen = (real + [s for s in sources if not s.story])[:min(len(sources), max(1, budget // 3))]
    plans = [_plan(random.Random(f"{seed}:{s.id}:plan")) for s in chosen]
    slots: list[tuple[int, str]] = [(i, "original") for i in range(len(chosen))]
    depth = 0
    while len(slots) < budget:
        if all(len(plan) <= depth for plan in plans):  # every plan used up: one more copy each
            for plan in plans:
                plan.append("copy")
        for i, plan in enumerate(plans):
            if depth < len(plan) and len(slots) < budget:
                slots.append((i, plan[depth]))
        depth += 1
    roles: dict[int, list[str]] = {}
    distractors = 0
    for i, role in slots:
        if role == "distractor":
            distractors += 1
            role = role if distractors <= len(others) else "copy"  # no other text left: a copy instead
        roles.setdefault(i, []).append(role)
    specs = list(COPY_SPECS)
    rng.shuffle(specs)
    context = _Context(seed, specs, [s.title for s in sources], others, Cycler(random.Random(f"{seed}:cycle")))
    for i, source in enumerate(chosen):
        members += _family(source, roles[i], len(members), context)
    return _finish(members, seed)


def _family(source: Source, roles: list[str], base: int, context: _Context) -> list[_Member]:
    """An original (at member index ``base``) and its copies, rewrites and distractor, labelled."""
    rng = random.Random(f"{context.seed}:{source.id}:family")
    story = f"story-{source.story or source.id}"
    group = f"copies-{source.id}"
    agency_name = source.credit or (context.next_agency() if rng.random() < AGENCY_SHARE else "")
    paragraphs = list(source.paragraphs)
    if agency_name and not source.credit:
        paragraphs[0] = f"({agency_name}) — {paragraphs[0]}"
    origin = agency_name or source.outlet
    has_copies = "copy" in roles
    kind = ("original", "real-same-event") if source.story else ("original",)
    # the agency's own site (AP News) does not credit itself
    original = _Member(source.outlet, source.site_name, source.url, source.published,
                       Draft(source.title, source.standfirst, paragraphs, agency_name or source.site_name),
                       group if has_copies else None, story, origin if (has_copies or agency_name) else "", kind,
                       bool(agency_name) and source.outlet != "apnews", source.corpus)
    out = [original]
    f = facts(source.title, source.paragraphs)
    pool = list(OUTLETS)
    rng.shuffle(pool)
    titles = [t for t in context.titles if t != source.title]
    for n, role in enumerate(roles[1:]):
        outlet = pool[n % len(pool)]
        if role == "copy":
            kinds = context.next_spec()
            when = _in_zone(source.published + timedelta(minutes=20 + rng.random() ** 2 * 30 * 60), outlet.utc_offset)
            credit, credited = "", False
            if "credit" in kinds:
                if agency_name:
                    credit, credited = agency_name, True
                elif rng.random() < 0.7:
                    credit, credited = source.site_name, True
                else:
                    credit = rng.choice(UNKNOWN_CREDITS)
            draft = transform(original.draft, kinds, rng, credit=credit, outlet=outlet,
                              other_titles=rng.sample(titles, 3), year=when.year)
            if "credit" not in kinds:
                # uncredited: the outlet's own name, unless an agency dateline stayed at the top (as extracted)
                draft.source = detect_source({}, [], draft.paragraphs, [], outlet.site)
                credited = bool(agency_name) and draft.source == agency_name
            labels = (*kinds, "combined") if len(kinds) > 1 else kinds
            out.append(_Member(outlet.id, outlet.site, "", when, draft, group, story, origin, labels, credited,
                               "synthetic", parent=base))
        elif role == "rewrite":
            when = _in_zone(source.published + timedelta(hours=rng.uniform(-4, 40)), outlet.utc_offset)
            draft = rewrite(f, fact_clause(source.paragraphs, rng), rng, context.cycle, when, outlet.site)
            out.append(_Member(outlet.id, outlet.site, "", when, draft, None, story, "", ("rewrite",), False,
                               "synthetic", parent=base))
        else:  # another event the same day (local time) naming the same people and places
            local = source.published
            when = local.replace(hour=0, minute=0, second=0) + timedelta(hours=rng.uniform(6, 22))
            if abs((when - local).total_seconds()) < 1800:
                when += timedelta(hours=1)
            draft = other_event(f, context.others.pop(), outlet.site)
            out.append(_Member(outlet.id, outlet.site, "", _in_zone(when, outlet.utc_offset), draft, None,
                               f"distractor-{source.id}", "", ("distractor-names",), False, "synthetic",
                               parent=base))
    return out


_CITIES = ("Springfield", "Lakeview", "Port Alder", "Northgate", "Ridgeway", "Fairhaven")
_INDICES = ("Harbor 100", "Pacific Composite", "Summit 50", "Capital All-Share")
_SECTORS = ("Banking", "Energy", "Technology", "Mining", "Retail", "Telecom", "Healthcare")


def _briefs(rng: random.Random, count: int) -> list[_Member]:
    """Near-identical daily briefs (weather, markets, lottery) of one outlet on consecutive days."""
    out: list[_Member] = []
    kinds = list(BRIEF_TEMPLATES)
    series = 0
    while len(out) < count:
        kind = kinds[series % len(kinds)]
        # one outlet per kind of brief: an outlet's own template (two outlets never share one word for word)
        outlet = OUTLETS[(3 + kinds.index(kind) * 5) % len(OUTLETS)]
        start = datetime(2024, 3, 25, 6, tzinfo=UTC) + timedelta(days=7 * series)
        city = _CITIES[series % len(_CITIES)]
        headline, paragraphs = BRIEF_TEMPLATES[kind]
        for day in range(min(3, count - len(out))):
            when = _in_zone(start + timedelta(days=day, minutes=rng.randint(0, 40)), outlet.utc_offset)
            slots = {
                "city": city, "weekday": when.strftime("%A"), "date": f"{when.day} {when:%B}",
                "cond": rng.choice(("sunny spells", "light showers", "cloudy skies", "scattered storms")),
                "hi": str(rng.randint(12, 29)), "lo": str(rng.randint(2, 11)), "w": str(rng.randint(5, 40)),
                "wind": rng.choice(("north", "south-west", "east", "west")), "rain": str(rng.randint(5, 90)),
                "site": outlet.site, "index": _INDICES[series % len(_INDICES)],
                "dir": rng.choice(("up", "down")), "pct": f"{rng.uniform(0.1, 2.4):.1f}",
                "points": f"{rng.randint(6000, 9000):,}", "sector": rng.choice(_SECTORS),
                "sector2": rng.choice(_SECTORS),
                "balls": ", ".join(str(b) for b in sorted(rng.sample(range(1, 60), 6))),
                "bonus": str(rng.randint(1, 59)), "jackpot": f"${rng.randint(2, 40)} million",
            }
            out.append(_Member(outlet.id, outlet.site, "", when,
                               Draft(_fill(headline, slots), "", [_fill(p, slots) for p in paragraphs], outlet.site),
                               None, f"brief-{kind}-{series}-{day}", "", ("distractor-brief",), False, "synthetic"))
        series += 1
    return out


def _notices(rng: random.Random, count: int) -> list[_Member]:
    """Short notices of two outlets, each wrapped in its outlet's long boilerplate."""
    out = []
    streets = ("Elm Street", "Harbour Road", "Mill Lane", "Station Avenue", "Queen's Parade", "Oak Drive", "Bridge Row")
    for n in range(count):
        outlet = OUTLETS[(n % 2) * 7]
        when = _in_zone(datetime(2024, 3, 26, 8, tzinfo=UTC) + timedelta(days=n // 2, hours=rng.uniform(0, 9)),
                        outlet.utc_offset)
        slots = {"street": streets[n % len(streets)], "weekday": when.strftime("%A"), "h1": str(rng.randint(6, 11)),
                 "h2": str(rng.randint(1, 9))}
        notice = _fill(NOTICE_TEMPLATES[n % len(NOTICE_TEMPLATES)], slots)
        title = notice.split(":")[0] + f": {slots['street']}"
        detail = f"Questions can be sent to the {slots['street']} office on {slots['weekday']} mornings."
        draft = transform(Draft(title, "", [notice, detail], outlet.site), ("boilerplate",), rng, outlet=outlet,
                          other_titles=["Council sets date for budget vote", "Weekend sport: all the results",
                                        "Letters to the editor"], year=when.year)
        out.append(_Member(outlet.id, outlet.site, "", when, draft, None, f"notice-{n}", "",
                           ("distractor-boilerplate",), False, "synthetic"))
    return out


def _record_id(seed: int, n: int) -> str:
    digest = hashlib.sha256(f"stories-set:{seed}:{n}".encode()).digest()
    return f"<urn:uuid:{uuid.UUID(bytes=digest[:16], version=4)}>"


def _finish(members: list[_Member], seed: int) -> list[LabelledArticle]:
    """Record ids, URLs, fetch times; singleton copy groups undone; publication order."""
    group_sizes = Counter(m.copy_group for m in members if m.copy_group)
    ids = [_record_id(seed, n) for n in range(len(members))]
    taken: set[str] = set()
    articles = []
    for n, m in enumerate(members):
        group = m.copy_group if m.copy_group and group_sizes[m.copy_group] > 1 else None
        origin = m.origin
        if group is None and m.copy_group and not m.credited and not agency(m.origin):
            origin = ""  # an original none of whose copies made it into the set
        url = m.url
        if not url:
            outlet = _OUTLET_BY_ID[m.outlet]
            url = _outlet_url(outlet, m.published, m.draft.title, 100000 + n)
        key = url_key(url)
        if key in taken:
            raise ValueError(f"two articles of the set at {url}")
        taken.add(key)
        minutes = 5 + 240 * _stable_fraction(seed, n, "fetched")
        fetched = (m.published + timedelta(minutes=minutes)).astimezone(UTC)
        articles.append(LabelledArticle(
            outlet=m.outlet, url=url, url_key=key, record_id=ids[n], published=_iso(m.published),
            fetched=fetched.strftime("%Y-%m-%dT%H:%M:%SZ"), title=_clean(m.draft.title),
            standfirst=_clean(m.draft.standfirst), body="\n".join(_paragraphs(m.draft.paragraphs)),
            source=m.draft.source or m.site_name, site_name=m.site_name, copy_group=group, story=m.story,
            origin=origin, kind=m.kind, credited=m.credited, corpus=m.corpus, reconstructed=m.reconstructed,
            derived_from=ids[m.parent] if m.parent is not None else "",
        ))
    articles.sort(key=lambda a: (_parse_when(a.published), a.fetched, a.record_id))
    return articles


# ---------------------------------------------------------------- describing a set


def outlet_names(articles: Iterable[LabelledArticle]) -> dict[str, str]:
    """Outlet id -> its site name, for every outlet of the set (and the fictional ones)."""
    names = {o.id: o.site for o in OUTLETS}
    for a in articles:
        names.setdefault(a.outlet, a.site_name)
    return names


def composition(articles: Sequence[LabelledArticle]) -> dict[str, object]:
    """Counts: articles, per kind, per corpus, stories, copy groups (and their sizes), sources."""
    kinds: Counter[str] = Counter(k for a in articles for k in a.kind)
    groups = Counter(a.copy_group for a in articles if a.copy_group)
    stories = Counter(a.story for a in articles)
    originals = [a for a in articles if "original" in a.kind]
    return {
        "articles": len(articles),
        "kinds": {k: kinds[k] for k in KINDS if kinds[k]},
        "corpora": dict(sorted(Counter(a.corpus for a in articles).items())),
        "original_sources": dict(sorted(Counter(a.url.split("/")[2] and _corpus_of(a) for a in originals).items())),
        "stories": len(stories),
        "stories_of_several": sum(1 for n in stories.values() if n > 1),
        "copy_groups": len(groups),
        "copies_in_groups": sum(groups.values()),
        "largest_copy_group": max(groups.values(), default=0),
        "agency_groups": len({a.copy_group for a in articles if a.copy_group and agency(a.origin)}),
        "credited": sum(a.credited for a in articles),
        "outlets": len({a.outlet for a in articles}),
        "reconstructed_from_seeds": sum(bool(a.reconstructed) for a in articles),
    }


def _corpus_of(article: LabelledArticle) -> str:
    return article.corpus
