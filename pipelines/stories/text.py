"""What story assignment reads in an article: word shingles (copies) and key terms (stories).

Words are letters and digits, lower-cased (any script: an Arabic or Russian article has words too; a script
written without spaces gives few, long "words" and so few shingles, and is then too short to compare as a
copy, never a crash). Shingles are runs of :data:`SHINGLE_WORDS` words of the standfirst and body (headlines
are rewritten by republishers; bodies are what they copy). Key terms are the words of the headline and the
lede, and the names the body repeats (capitalised runs of words), weighed by where they come from.
"""

from __future__ import annotations

import re
from collections import Counter
from operator import itemgetter

#: Words in a shingle: runs of three keep a light rewrite's unchanged stretches, and few shared by chance.
SHINGLE_WORDS = 3
#: An article with fewer shingles is too short to tell a copy from a coincidence.
MIN_SHINGLES = 25
#: Key terms kept per article.
MAX_TERMS = 24
_WORD = re.compile(r"[^\W_]+")
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of|the|de|al|bin|van|von|[A-Z][\w'’-]*))*")
#: Weights of a term by where it is found.
HEADLINE, LEDE, NAME = 3.0, 1.5, 1.0
#: Words that say nothing about an event (English function words and newsroom words; other languages' terms
#: are weighed down by their document frequency anyway).
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other
our ours out over own same she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
said says say told according new news report reports reported year years day days week weeks month months time
today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday one two three first last
people mr ms mrs dr percent per cent could may might must also however including since amid among
read more click subscribe newsletter advertisement share follow
""".split())


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(standfirst: str, body: str) -> set[str]:
    """The article's word shingles (empty when it is too short to compare)."""
    tokens = words(f"{standfirst}\n{body}")
    found = set(map(" ".join, zip(*(tokens[start:] for start in range(SHINGLE_WORDS)), strict=False)))  # runs of words
    return found if len(found) >= MIN_SHINGLES else set()


def key_terms(title: str, standfirst: str, body: str) -> dict[str, float]:
    """The article's key terms and their weights: headline and lede words, and the names its body repeats."""
    paragraphs = [line for line in body.splitlines() if line.strip()]
    lede = " ".join([standfirst, *paragraphs[:2]])
    weights = dict.fromkeys(_terms(title), HEADLINE)  # each once, in the text's order: ties rank the same in every run
    for word in _terms(lede):
        weights[word] = weights.get(word, 0) + LEDE
    found = [name for paragraph in paragraphs for name in _NAME.findall(paragraph)]  # a name ends with its line
    names = Counter(words(" ".join(found)))
    for word, count in names.items():
        if (count >= 2 or word in weights) and _term(word):  # a name said twice, or one the headline or lede has
            weights[word] = weights.get(word, 0) + NAME * min(count, 3)
    return dict(sorted(weights.items(), key=itemgetter(1), reverse=True)[:MAX_TERMS])  # (stable: ties in order)


def _terms(text: str) -> list[str]:
    """The text's words that can be key terms, each once, in order."""
    return [word for word in dict.fromkeys(words(text)) if _term(word)]


def _term(word: str) -> bool:
    return len(word) > 2 and word not in STOPWORDS and not word.isdigit()
