"""Field-by-field comparisons against string-valued, hand-me-down ground truth (Readability's
``expected-metadata.json``, Postlight/Mercury's test expectations).

That truth is what another extractor returned, in the form a page prints it: a byline such as
``"By JOSH HASKELL, DAVID CAPLAN and PATRICK REEVELL"`` rather than a list of names, a headline with or
without its site name, an excerpt that may be a description or a first paragraph. The rules below decide
when a prediction says the same thing; each is a small pure function (unit-tested in
``tests/test_evaluation_scorers.py`` on strings taken from the corpora).

Authors (:func:`byline_names`, :func:`name_key`, :func:`authors_verdict`)
    The expected byline is split into names: e-mail addresses, URLs and dates (``"April 28, 2019 at
    6:01 am"``, ``"22 Dec 2016"``, ISO dates, clock times) are removed, and so is everything from
    ``Updated``/``Published``/``Posted`` on; the rest is cut at newlines, ``,`` ``;`` ``/`` ``、`` and
    brackets and at the words and/&/und/et/y/e/with/avec; text after a ``|`` is dropped (``"| Outlet"``);
    leading labels are stripped (``By``, ``Written by``, ``Par``, ``Por``, ``Von``, ``Author:``, ``著者:``...)
    and so are role words (``Staff Writer``, ``Senior Correspondent``, ``Reporter``, ``Editor``...) and
    degrees (``MA``, ``MD``, ``PhD``); a piece with no letter left is dropped. Predicted names are *not*
    cleaned that way (an extractor that returns ``"By Jane Doe"`` is wrong), only keyed.
    Names compare by key: NFKC, diacritics removed, case-folded, cut into word tokens (``\\w+``), the
    tokens sorted - so case, accents, punctuation, hyphens and the order of given and family name do not
    matter. ``exact``: the two key sets are equal (an empty truth agrees with an empty prediction only);
    ``partial``: they share a name; ``miss``: otherwise.

Titles (:func:`normalize_title`, :func:`title_verdict`)
    Normalised: NFKC, curly quotes and guillemets to straight quotes, every dash to ``-``, whitespace runs to
    one space. ``match``: equal (case kept). ``site_affix``: one is the other plus a suffix or prefix behind
    a separator (``|``, `` - `` (any dash, with spaces), ``::``, ``·``, ``»``, ``_``) - a site name kept or
    removed, reported apart from a wrong headline; a prefix the prediction drops must be shorter than the
    part it keeps (``"V8"`` for ``"standalone WebAssembly binaries using Emscripten · V8"`` is the site name,
    not the headline: wrong). ``:`` is no separator (``"Zimbabwe coup: ..."``). ``empty``: no prediction;
    ``wrong``: anything else.

Dates (:func:`date_verdict`)
    Parsed with :func:`evaluation.metrics.parse_when`. ``day``: the same calendar day
    (:func:`evaluation.metrics.same_day`); for a truth in UTC (Mercury converted every date to UTC,
    including date-only ones) and a date-only or naive prediction, the day is right when the truth's
    instant falls on that date somewhere on Earth (UTC-12 to UTC+14). ``minute``: scored only when the
    truth is aware and not local midnight (:func:`evaluation.metrics.has_time`), as
    :func:`evaluation.metrics.same_minute`. A naive truth with a time is scored by day only.

Excerpt / dek (:func:`text_tokens`, :func:`excerpt_verdict`)
    Both sides as case-folded, diacritic-free ``\\w+`` tokens. Right when the token lists are equal, or
    when the shorter is a contiguous run inside the longer and has at least 5 tokens (or all of the longer's,
    when the longer has fewer) - so a truncated description or a dek that is the first sentence of a longer
    summary agrees, a stray word does not.

Body start (:func:`first_words_verdict`)
    Mercury's ``content_first_words`` (HTML entities decoded), as tokens: its first 8 tokens (at most
    80 characters of them, for unspaced scripts), joined by spaces, must occur inside the first 40 tokens
    of the prediction's text (standfirst then body), joined likewise.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta

# ---------------------------------------------------------------- text folding


def fold(text: str | None) -> str:
    """NFKC, diacritics removed, case-folded, whitespace runs made one space."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or ""))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", stripped).casefold()).strip()


def text_tokens(text: str | None) -> list[str]:
    """Word tokens of the folded text."""
    return re.findall(r"\w+", fold(text))


# ---------------------------------------------------------------- authors

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_NOISE = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"(?:https?://|www\.)\S+"),  # URLs
    re.compile(rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\d*", re.I),  # April 28, 2019
    re.compile(rf"\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\d*", re.I),  # 22 Dec 2016 (also "Nolan22 Dec 2016651")
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"),  # ISO dates
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4}\b)?", re.I),  # clock times
]
_CUT_FROM = re.compile(r"\b(?:last\s+)?(?:updated|published|posted|modified)\b.*", re.I | re.S)
_SPLIT = re.compile(r"\n|[,;/、()\[\]]|\s(?:and|&|und|et|y|e|with|avec)\s|\s&|&\s", re.I)
_LABEL = re.compile(
    r"^(?:(?:(?:written|edited|reported|posted|story|words|text|photos?|compiled)\s+by|by|par|por|von|door|"
    r"with|avec|authors?|text)\b|著者|作者|文)\s*[:：●]?\s*(?=\S)", re.I)
_ROLE_ADJ = (r"(?:senior|chief|deputy|staff|special|contributing|associate|assistant|managing|executive|"
             r"political|foreign|national|international|health|science|business|sports|tech(?:nology)?|"
             r"investigative|news|digital|global|economics|legal|white\s+house|washington|london|the)")
_ROLE_NOUN = (r"(?:writers?|reporters?|correspondents?|editors?|columnists?|contributors?|producers?|"
              r"journalists?|staff|critics?|analysts?|bureau\s+chief|intern)")
_ROLE = re.compile(rf"(?:{_ROLE_ADJ}\s+)*{_ROLE_NOUN}(?:\s+(?:at|for|of)\s+.*)?", re.I)
# "Jane Doe Staff Writer" loses its role, "TMZ Staff" (an outlet's credit) stays whole
_TRAILING_ROLE = re.compile(rf"\s+(?:{_ROLE_ADJ}\s+)*(?!staff$){_ROLE_NOUN}$", re.I)
_DEGREE = re.compile(r"(?:ma|ms|msc|md|mph|phd|ph\.d\.|rn|jr\.?|sr\.?)", re.I)
_FILLER = {"at", "on", "by", "and", "of", "in", "am", "pm"}


def _clean_piece(piece: str) -> str:
    """One candidate name: labels and roles stripped; ``""`` when nothing name-like is left."""
    piece = re.sub(r"\s+", " ", piece).strip(" .:-–—·•|\"'")
    while True:
        stripped = _LABEL.sub("", piece)
        if stripped == piece:
            break
        piece = stripped.strip(" .:-–—·•")
    if _ROLE.fullmatch(piece) or _DEGREE.fullmatch(piece):
        return ""
    piece = _TRAILING_ROLE.sub("", piece).strip(" .:-")
    words = [w for w in piece.split() if w.casefold() not in _FILLER] if piece else []
    if not words or not any(ch.isalpha() for ch in piece):
        return ""
    # filler words only at the edges are dropped ("at" left over from "April 28, 2019 at 6:01 am")
    tokens = piece.split()
    while tokens and tokens[0].casefold() in _FILLER:
        tokens.pop(0)
    while tokens and tokens[-1].casefold() in _FILLER:
        tokens.pop()
    return " ".join(tokens)


def byline_names(byline: str | None) -> list[str]:
    """The names in a printed byline (see the module docstring), in order, without repeats."""
    text = unicodedata.normalize("NFKC", byline or "")
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    text = _CUT_FROM.sub("", text)
    text = re.sub(r"\|.*", "", text, flags=re.S)  # "| Outlet"
    names: list[str] = []
    for piece in _SPLIT.split(text):
        name = _clean_piece(piece or "")
        if name and name_key(name) not in {name_key(n) for n in names}:
            names.append(name)
    return names


def name_key(name: str) -> str:
    """A name's comparison key: its folded word tokens, sorted (so "Jong Michiel de" = "Michiel de Jong")."""
    return " ".join(sorted(text_tokens(name)))


def author_keys(names: list[str] | None) -> set[str]:
    return {key for key in (name_key(n) for n in names or []) if key}


def authors_verdict(expected: list[str], predicted: list[str] | None) -> str:
    """``exact`` (same name set; two empty sets agree), ``partial`` (a name in common) or ``miss``."""
    want, got = author_keys(expected), author_keys(predicted)
    if want == got:
        return "exact"
    return "partial" if want & got else "miss"


# ---------------------------------------------------------------- titles

_QUOTES = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
})
_AFFIX_AFTER = re.compile(r"^\s*(?:\||::|·|»|_)\s*\S|^\s+-+\s+\S")
_AFFIX_BEFORE = re.compile(r"\S\s*(?:\||::|·|»|_)\s*$|\S\s+-+\s+$")


def normalize_title(text: str | None) -> str:
    """NFKC, quotes straightened, dashes made ``-``, whitespace runs one space (case kept)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "").translate(_QUOTES)).strip()


def _separated(head: str, tail: str) -> bool:
    """``head + tail`` joins two parts at a site-name separator (``tail`` starts with it)."""
    # ``»`` was straightened to ``"`` by normalize_title; accept it as a separator too
    return bool(_AFFIX_AFTER.match(tail) or re.match(r'^\s+"\s+\S', tail)) if head else False


def site_affix(expected: str, predicted: str) -> bool:
    """The (normalised) titles differ by a separated site name: the prediction adds one to the expected
    title (before or after it), or drops one from it. A dropped *prefix* must be shorter than what is kept,
    so that a prediction that is only the site name (``"V8"`` from ``"... Emscripten · V8"``) is wrong."""
    if not expected or not predicted or expected == predicted:
        return False
    if len(predicted) > len(expected):  # a site name added
        longer, shorter = predicted, expected
    else:  # a site name dropped
        longer, shorter = expected, predicted
    if longer.startswith(shorter) and _separated(shorter, longer[len(shorter):]):
        return True
    if longer.endswith(shorter):
        head = longer[:-len(shorter)]
        dropped = head.rstrip(" |:·»_-\"")
        if (_AFFIX_BEFORE.search(head) or re.search(r'\S\s+"\s+$', head)) and (
                longer is predicted or len(dropped) < len(shorter)):
            return True
    return False


def title_verdict(expected: str | None, predicted: str | None) -> str:
    """``match``, ``site_affix`` (right headline, a site name more or less), ``empty`` or ``wrong``."""
    want, got = normalize_title(expected), normalize_title(predicted)
    if want == got:
        return "match"
    if not got:
        return "empty"
    return "site_affix" if site_affix(want, got) else "wrong"


# ---------------------------------------------------------------- dates


def same_day_somewhere(true: datetime, pred: date) -> bool:
    """The instant ``true`` falls on the calendar date ``pred`` in some time zone (UTC-12 to UTC+14)."""
    instant = true.astimezone(UTC)
    return (instant - timedelta(hours=12)).date() <= pred <= (instant + timedelta(hours=14)).date()


def date_verdict(expected: str | None, predicted: str | None) -> dict[str, bool | None]:
    """``{"day": ..., "minute": ...}``: each ``None`` when not scored (no truth; truth without a time)."""
    from evaluation.metrics import has_time, parse_when, same_day, same_minute  # metrics imports this module

    true, pred = parse_when(expected), parse_when(predicted)
    if true is None:
        return {"day": None, "minute": None}
    day = same_day(true, pred)
    truth_in_utc = isinstance(true, datetime) and true.utcoffset() == timedelta(0)
    pred_is_local = isinstance(pred, date) and not (isinstance(pred, datetime) and pred.tzinfo is not None)
    if not day and truth_in_utc and pred_is_local:
        local = pred.date() if isinstance(pred, datetime) else pred
        day = same_day_somewhere(true, local)  # type: ignore[arg-type]
    minute = None
    if isinstance(true, datetime) and true.tzinfo is not None and has_time(true):
        minute = same_minute(true, pred)
    return {"day": day, "minute": minute}


# ---------------------------------------------------------------- excerpt, dek, body start


def _contains(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))


def excerpt_verdict(expected: str | None, predicted: str | None) -> bool:
    """Token-equal, or one a contiguous run of the other of at least 5 tokens (see the module docstring)."""
    want, got = text_tokens(expected), text_tokens(predicted)
    if not want or not got:
        return not want and not got
    if want == got:
        return True
    longer, shorter = (want, got) if len(want) >= len(got) else (got, want)
    return len(shorter) >= min(5, len(longer)) and _contains(longer, shorter)


def first_words_verdict(expected: str | None, text: str | None, n: int = 8, window: int = 40) -> bool:
    """The expected first words (their first ``n`` tokens) occur in the first ``window`` tokens of ``text``."""
    want = " ".join(text_tokens(html.unescape(expected or ""))[:n])[:80].strip()
    if not want:
        return False
    return want in " ".join(text_tokens(text)[:window])
