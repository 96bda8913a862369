"""Story assignment (pipelines.stories) on both catalog databases: the seed story from the outlets' fixture pages,
versions that stay one member, the LSH index shared in Redis, and the bad inputs the issue names.

The crawl of the local outlet web and ``scrapy stories`` are tested in tests/test_stories_cli.py; the labelled
evaluation set in tests/test_stories_evaluation.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.catalog import Catalog
from pipelines.extract import extract_article
from pipelines.stories import Assignment, StoryArticle
from pipelines.stories.index import StoryFeatures, StoryIndex
from pipelines.stories.lsh import BUCKET_CAP, band_keys, signature
from pipelines.stories.queries import recent_stories, story
from pipelines.stories.text import shingles
from pipelines.urls import url_key
from tests.localweb import FIXTURES
from tests.servers import redis_server

SEED_OUTLETS = ("axios", "inkl", "almayadeen", "ndtv", "jns")
#: The seed story's article at each outlet (its fixture pages hold other stories too).
SEED_PAGES = {
    "axios": "netanyahu-rafah-delegation-white-house-reversal",
    "inkl": "in-reversal-netanyahu-sending-delegation-to-white-house-for-rafah",
    "almayadeen": "netanyahu-sending-delegation-to-white-house-for-talks-on-rafah",
    "ndtv": "israel-asks-us-to-reschedule-scrapped-meeting-on-rafah",
    "jns": "days-after-canceled-israeli-delegation-to-dc",
}


def fixture_articles(outlets: tuple[str, ...] = SEED_OUTLETS) -> list[StoryArticle]:
    """Every article page of these outlets' fixture sites, extracted, in publication order."""
    articles = []
    for outlet in outlets:
        for url in json.loads((FIXTURES / outlet / "expected.json").read_text())["articles"]:
            page = FIXTURES / outlet / "web" / url.split("://", 1)[1]
            page = page / "index.html" if page.is_dir() else page
            extracted = extract_article(page.read_bytes(), url)
            assert extracted is not None, url
            articles.append(StoryArticle(outlet, url_key(url), f"<urn:uuid:{outlet}-{url_key(url)}>", url,
                                         extracted.published, extracted.published, extracted.title,
                                         extracted.standfirst, extracted.body, extracted.source, extracted.site_name))
    return sorted(articles, key=lambda article: (article.published, article.url))


def article(outlet: str, key: str, body: str, title: str = "A headline", published: str = "2026-03-02T10:00:00Z",
            source: str = "", record: str = "") -> StoryArticle:
    return StoryArticle(outlet, key, record or f"<{outlet}-{key}>", f"https://{outlet}.example/{key}", published,
                        published, title, "", body, source, outlet.title())


def prose(seed: int, words: int = 400) -> str:
    """Paragraphs of words drawn from a vocabulary (a text no other seed repeats)."""
    rng = random.Random(seed)
    vocabulary = [f"{rng.choice('bcdfgklmnprst')}{rng.choice('aeiou')}{rng.choice('nrstl')}{n}" for n in range(5000)]
    drawn = rng.choices(vocabulary, k=words)
    return "\n".join(" ".join(drawn[start:start + 40]) + "." for start in range(0, words, 40))


def excerpt(outlet: str, key: str, text: str) -> StoryArticle:
    """Most of the text under a headline and lede of the outlet's own: a copy found through the LSH index alone
    (its key terms, the headline's and lede's words, are not the original's)."""
    return article(outlet, key, prose(700, 80) + "\n" + "\n".join(text.splitlines()[2:]), title="Our own words",
                   source="Wire")


def seed_story(catalog: Catalog) -> dict:
    with catalog.engine.connect() as connection:
        stories = recent_stories(connection, limit=100)
        (wanted,) = [found for found in stories if any(SEED_PAGES["axios"] in m["url"] for m in found["members"])]
        return story(connection, wanted["id"])


@pytest.mark.parametrize("order", ["published", "reversed"])
def test_the_seed_story_from_the_outlets_fixture_pages(database: str, order: str) -> None:
    """In publication order, or the other way round (a crawl meets a rewrite before the article it credits)."""
    catalog = Catalog(database)
    index = StoryIndex.of(catalog)
    articles = fixture_articles()
    for found in articles if order == "published" else reversed(articles):
        index.add(found)
    seed = seed_story(catalog)
    members = {member["outlet"]: member for member in seed["members"]}
    assert sorted(members) == sorted(SEED_OUTLETS)
    assert all(SEED_PAGES[outlet] in member["url"] for outlet, member in members.items())
    assert len(seed["members"]) == len(SEED_OUTLETS)  # none of the outlets' other stories
    for copy in ("inkl", "almayadeen"):
        assert (members[copy]["origin"], members[copy]["credited"]) == ("axios", True), copy
    assert (members["ndtv"]["origin"], members["ndtv"]["credited"]) == ("AFP", True)
    assert members["axios"]["origin"] == members["jns"]["origin"] == ""
    assert members["inkl"]["copy_group"] == members["almayadeen"]["copy_group"] == members["axios"]["copy_group"]
    assert members["jns"]["copy_group"] != members["axios"]["copy_group"]
    edges = {(edge["from"], edge["to"], edge["credited"]) for edge in seed["edges"]}
    assert (members["inkl"]["record_id"], members["axios"]["record_id"], True) in edges
    assert (members["ndtv"]["record_id"], None, True) in edges  # AFP's own site is not archived
    catalog.close()


def test_assignment_is_the_same_however_the_articles_are_committed(tmp_path: Path) -> None:
    articles = fixture_articles()
    one_by_one = Catalog(tmp_path / "one.sqlite")
    for found in articles:
        StoryIndex.of(one_by_one).add(found)
    batched = Catalog(tmp_path / "batched.sqlite")
    index = StoryIndex.of(batched)
    for found in articles:
        index.add(found, commit=False, features=StoryFeatures.of(found.title, found.standfirst, found.body))
    batched.commit()
    assert index.membership() == StoryIndex.of(one_by_one).membership()


def test_a_new_version_stays_one_member_of_its_group_and_story(database: str) -> None:
    catalog = Catalog(database)
    index = StoryIndex.of(catalog)
    text = prose(1)
    first = index.add(article("wire", "a-1", text, published="2026-03-02T08:00:00Z"))
    copy = index.add(article("paper", "b-1", "Source: Wire\n" + text, source="Wire", published="2026-03-02T09:00:00Z"))
    assert copy.copy_group is not None and copy.story_id == first.story_id
    updated = text.replace(".", " and more.", 2) + "\nEditor's note: this story was updated with new figures."
    again = index.add(article("wire", "a-1", updated, record="<wire-a-1-v2>", published="2026-03-02T08:00:00Z"))
    assert (again.story_id, again.copy_group) == (first.story_id, copy.copy_group)
    membership = index.membership()
    assert sorted(membership) == ["<paper-b-1>", "<wire-a-1-v2>"]  # the article's latest version, once
    assert membership["<paper-b-1>"] == Assignment(first.story_id, copy.copy_group, "wire", True)
    with catalog.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM story_articles")).scalar() == 2
    catalog.close()


def test_an_article_too_short_to_shingle_is_its_own_story_never_a_copy(database: str) -> None:
    catalog = Catalog(database)
    index = StoryIndex.of(catalog)
    short = "Markets closed higher on Monday."
    one = index.add(article("wire", "short-1", short, title="Markets close higher"))
    other = index.add(article("paper", "short-1", short, title="Stocks end the day up"))
    assert one.copy_group is None and other.copy_group is None
    empty = index.add(article("paper", "empty", "", title=""))
    assert empty.copy_group is None and empty.story_id not in (one.story_id, other.story_id)
    catalog.close()


def test_dates_that_are_no_real_day_place_an_article_on_its_fetch_day(database: str) -> None:
    """A page stating "9999-12-31" or "2024-13-45" (seen in the corpora: a replay once stopped on one)."""
    catalog = Catalog(database)
    index = StoryIndex.of(catalog)
    for n, stated in enumerate(["9999-12-31T00:00:00Z", "0001-01-01", "2024-13-45T10:00:00Z", "2024-02-30"]):
        found = StoryArticle("odd", f"d-{n}", f"<odd-d-{n}>", f"https://odd.example/d-{n}", stated,
                             "2026-03-02T10:00:00Z", "A headline", "", prose(40 + n), "", "Odd")
        assert index.add(found).story_id
    with catalog.engine.connect() as connection:
        days = {row[0] for row in connection.execute(sa.text("SELECT day FROM story_articles"))}
    assert days == {"2026-03-02"}
    catalog.close()


def test_pages_in_other_scripts(database: str) -> None:
    """Arabic (words between spaces) is compared like English; Chinese (no spaces) is too short to shingle."""
    catalog = Catalog(database)
    index = StoryIndex.of(catalog)
    rng = random.Random(7)
    arabic_words = ["الحكومة", "الوزير", "المدينة", "الاتفاق", "المفاوضات", "الأمن", "الجيش", "البرلمان", "الاقتصاد",
                    "الرئيس", "الشعب", "الحدود", "السلام", "القرار", "المجلس", "الدولة", "الطاقة", "النفط", "الماء"]
    arabic = "\n".join(" ".join(rng.choices(arabic_words, k=40)) + "." for _ in range(8))
    original = index.add(article("almayadeen", "ar-1", arabic, title="الحكومة والمفاوضات"))
    copy = index.add(article("other", "ar-1", arabic + "\nالمصدر: الميادين", title="عنوان آخر"))
    assert copy.copy_group is not None and copy.copy_group == index.membership()["<almayadeen-ar-1>"].copy_group
    assert copy.story_id == original.story_id
    chinese = "政府今天宣布了新的经济政策，旨在促进就业和稳定物价。" * 20
    first = index.add(article("cn-one", "zh-1", chinese, title="新经济政策"))
    second = index.add(article("cn-two", "zh-1", chinese, title="新经济政策"))
    assert first.copy_group is None and second.copy_group is None
    catalog.close()


def test_a_credit_naming_an_unknown_source(database: str) -> None:
    catalog = Catalog(database)
    index = StoryIndex.of(catalog)
    text = prose(3)
    index.add(article("paper", "x-1", text, published="2026-03-02T08:00:00Z", source="The Daily Planet"))
    second = index.add(article("gazette", "x-1", text, published="2026-03-02T11:00:00Z", source="Daily Planet Wire"))
    # no archived outlet or agency is called that: the group's origin is its earliest member, not a name
    assert second.copy_group is not None and (second.origin, second.credited) == ("paper", False)
    alone = index.add(article("gazette", "y-1", prose(4), source="<script>alert(1)</script>"))
    assert (alone.origin, alone.copy_group) == ("", None)
    catalog.close()


@pytest.mark.slow
def test_ten_thousand_near_identical_pages_of_one_outlet_make_no_giant_cluster(tmp_path: Path) -> None:
    """An outlet's boilerplate (a cookie wall, a "page not found" template) on 10,000 pages, each a word apart:
    no copy group, no story of them, the index's buckets capped, and real copies still found afterwards."""
    catalog = Catalog(tmp_path / "catalog.sqlite")
    index = StoryIndex.of(catalog)
    template = prose(5, words=300)
    for n in range(10_000):
        page = article("portal", f"page-{n}", f"{template}\nReference {n} of the archive.", title="Portal",
                       published=f"2026-03-{1 + n % 5:02d}T10:00:00Z")
        index.add(page, commit=False)
        if n % 1000 == 999:
            catalog.commit()
    catalog.commit()
    text = prose(6)
    index.add(article("wire", "real-1", text, title="Floods close the coastal road"))
    copy = index.add(article("paper", "real-1", text, title="Coastal road shut by floods", source="Wire"))
    with catalog.engine.connect() as connection:
        sizes = Counter(row[0] for row in connection.execute(sa.text("SELECT story_id FROM story_articles")))
        grouped = connection.execute(sa.text("SELECT count(*) FROM story_articles WHERE copy_group IS NOT NULL"))
        assert grouped.scalar() == 2  # the wire copy and its original only
    assert max(sizes.values()) == 2 and copy.copy_group is not None
    keys = band_keys(signature(shingles("", f"{template}\nReference 0 of the archive.")))
    assert max(map(len, index.bands.buckets(keys).values())) == BUCKET_CAP
    catalog.close()
    reopened = Catalog(tmp_path / "catalog.sqlite")  # its index built at once from the stored signatures
    assert max(map(len, StoryIndex.of(reopened).bands.buckets(keys).values())) == BUCKET_CAP
    reopened.close()


def test_workers_share_the_lsh_index_in_redis_and_it_moves_back(database: str,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """Two workers (two catalog connections) with REDIS_URL assign to the same copy groups; a catalog opened
    without it later builds the bands in memory from the signatures it keeps."""
    text = prose(8)
    with redis_server() as redis_url:
        first, second = Catalog(database), Catalog(database)
        one = StoryIndex.of(first, redis_url).add(article("wire", "r-1", text))
        two = StoryIndex.of(second, redis_url).add(article("paper", "r-1", text, source="Wire"))
        assert two.copy_group is not None and (two.origin, two.credited) == ("wire", True)
        assert two.story_id == one.story_id
        with first.engine.connect() as connection:
            index_id = connection.execute(sa.text("SELECT value FROM story_settings WHERE name = 'index_id'")).scalar()
        import redis

        assert redis.Redis.from_url(redis_url).keys(f"newsarchive:stories:{index_id}:*")
        first.close()
        second.close()
    with caplog.at_level(logging.INFO, logger="pipelines.stories.index"):
        alone = Catalog(database)
        index = StoryIndex.of(alone)  # no REDIS_URL now: the bands are built in this process's memory
    assert "LSH bands of 2 articles built in memory" in caplog.text
    third = index.add(article("gazette", "r-1", text, source="Wire"))
    assert third.copy_group == two.copy_group
    alone.close()


def test_workers_without_redis_see_the_articles_each_other_stores(database: str) -> None:
    """Two workers (two catalog connections), each LSH index in its own memory: each catches up with what the
    other committed before assigning, so a copy stored by one finds its original stored by the other."""
    first, second = Catalog(database), Catalog(database)
    one_index, other_index = StoryIndex.of(first), StoryIndex.of(second)
    texts = [prose(20 + n) for n in range(3)]
    originals = [one_index.add(article("wire", f"w-{n}", text)) for n, text in enumerate(texts)]
    copies = [other_index.add(article("paper", f"p-{n}", text, source="Wire")) for n, text in enumerate(texts)]
    assert [copy.copy_group for copy in copies] == [one_index.membership()[f"<wire-w-{n}>"].copy_group
                                                    for n in range(3)]
    assert all(copy.copy_group is not None for copy in copies) and len({o.story_id for o in originals}) == 3
    late = one_index.add(article("gazette", "g-0", texts[0], source="Wire"))  # and the other way round
    assert late.copy_group == copies[0].copy_group
    first.close()
    second.close()


def test_workers_without_redis_take_in_the_new_versions_each_other_records(database: str) -> None:
    """A new version recorded by one worker: the other takes its old text's LSH bands out and its new text's in
    before its next transaction (story_versions), so a copy of the new text found through the LSH index alone
    joins it, and one of the old text does not."""
    first, second = Catalog(database), Catalog(database)
    one_index, other_index = StoryIndex.of(first), StoryIndex.of(second)
    old, new = prose(60), prose(61)
    other_index.add(article("wire", "v-1", old))  # in both indexes: the other caught up before recording it...
    one_index.add(article("gazette", "g-1", prose(62)))  # ...and this one before storing its own
    other_index.add(article("wire", "v-1", new, record="<wire-v-1-v2>"))
    copy_of_new = one_index.add(excerpt("paper", "p-new", new))
    assert copy_of_new.copy_group is not None
    assert copy_of_new.copy_group == one_index.membership()["<wire-v-1-v2>"].copy_group
    assert one_index.add(excerpt("paper", "p-old", old)).copy_group is None
    first.close()
    second.close()


def test_an_article_stored_by_a_transaction_still_running_is_found_once_it_commits(database: str) -> None:
    """On PostgreSQL a transaction takes its ids when it inserts and its rows appear when it commits: an article
    committed after a later id was seen is caught up with all the same."""
    slow, quick = Catalog(database), Catalog(database)
    slow_index, quick_index = StoryIndex.of(slow), StoryIndex.of(quick)
    text = prose(30)
    slow_index.add(article("wire", "s-1", text), commit=False)  # takes its id, not yet committed
    if slow.engine.dialect.name == "postgresql":  # SQLite: one writer at a time, it would wait
        quick_index.add(article("gazette", "q-1", prose(31)))  # a later id, committed first
    slow.commit()
    copy = quick_index.add(article("paper", "p-1", text, source="Wire"))
    assert copy.copy_group is not None and copy.origin == "wire"
    slow.close()
    quick.close()


def test_a_rolled_back_article_leaves_nothing_in_the_index(database: str) -> None:
    catalog = Catalog(database)
    index = StoryIndex.of(catalog)
    text = prose(40)
    index.add(article("wire", "r-1", text), commit=False)
    index.flush()
    catalog.rollback()
    unrelated = index.add(article("gazette", "u-1", prose(41)))  # may be given the rolled-back article's id
    copy = index.add(article("paper", "c-1", text, source="Wire"))
    assert copy.copy_group is None and unrelated.copy_group is None
    catalog.close()


def test_stories_of_a_catalog_migrated_down_and_up_again(database: str) -> None:
    """Migration 0008 (the LSH bands and key-term postings out of the catalog) and back: the postings written
    again from the terms each article keeps, and found again after the upgrade."""
    from alembic import command
    from alembic.config import Config

    from pipelines.catalog.store import MIGRATIONS

    catalog = Catalog(database)
    text = prose(50)
    original = StoryIndex.of(catalog).add(article("wire", "m-1", text, title="Floods close the coastal road"))
    catalog.close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(database if "://" in database else f"sqlite:///{database}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM story_bands")).scalar() == 0
        terms = connection.execute(sa.text("SELECT term FROM story_terms WHERE article_id = 1")).scalars().all()
    engine.dispose()
    assert sorted(terms) == sorted(StoryFeatures.of("Floods close the coastal road", "", text).terms)
    upgraded = Catalog(database)  # migrated to the newest revision again
    index = StoryIndex.of(upgraded)
    copy = index.add(article("paper", "m-1", text, source="Wire"))
    rewrite = index.add(article("gazette", "m-2", prose(51), title="Floods close the coastal road"))
    assert copy.copy_group is not None and copy.origin == "wire"
    assert rewrite.story_id == original.story_id  # found through the key terms kept
    upgraded.close()


def test_workers_without_redis_see_the_write_ups_each_other_stores(database: str) -> None:
    """A write-up of an event stored by one worker is found by another whose postings of that day were in memory
    already: they take the articles stored since, before it assigns."""
    first, second = Catalog(database), Catalog(database)
    one_index, other_index = StoryIndex.of(first), StoryIndex.of(second)
    lede = "Kaldoran floods closed the Vestmar coastal road; Mayor Ilse Brandvik ordered the Oster valley evacuated."
    other_index.add(article("gazette", "g-1", prose(60), title="Parliament debates the harbour budget"))
    report = one_index.add(article("wire", "w-1", f"{lede}\n{prose(61)}",
                                   title="Kaldoran floods close the Vestmar coastal road"))
    rewrite = other_index.add(article("paper", "p-1", f"{lede.replace('closed', 'shut')}\n{prose(62)}",
                                      title="Vestmar coastal road shut as Kaldoran floods spread"))
    assert rewrite.story_id == report.story_id and rewrite.copy_group is None
    first.close()
    second.close()


@pytest.mark.parametrize("bands", ["memory", "redis"])
def test_workers_find_a_write_up_by_the_terms_of_a_new_version_another_records(database: str, bands: str) -> None:
    """A new version recorded by one worker changes the article's key terms: another worker whose postings of that
    day were in memory already finds the article by its new terms (and a write-up of its old event no longer
    joins it), whether the LSH index is each worker's own or shared in Redis."""
    with redis_server() if bands == "redis" else contextlib.nullcontext("") as redis_url:
        _find_a_write_up_by_the_terms_of_a_new_version(database, redis_url)


def _find_a_write_up_by_the_terms_of_a_new_version(database: str, redis_url: str) -> None:
    first, second = Catalog(database), Catalog(database)
    one_index, other_index = StoryIndex.of(first, redis_url), StoryIndex.of(second, redis_url)
    floods = "Kaldoran floods closed the Vestmar coastal road; Mayor Ilse Brandvik ordered the Oster valley evacuated."
    quake = "A Tarnholm earthquake cut the Brisvald mountain pass; Governor Odo Fennick sent the Ruskel army engineers."
    report = other_index.add(article("wire", "w-1", f"{floods}\n{prose(71)}",
                                     title="Kaldoran floods close the Vestmar coastal road"))
    elsewhere = one_index.add(article("gazette", "g-1", prose(72),
                                      title="Parliament debates the Vestmar harbour budget"))
    assert elsewhere.story_id != report.story_id  # (its write-ups looked for: the day's postings are in memory)
    other_index.add(article("wire", "w-1", f"{quake}\n{prose(73)}", record="<wire-w-1-v2>",
                            title="Tarnholm earthquake cuts the Brisvald mountain pass"))
    rewrite = one_index.add(article("paper", "p-1", f"{quake.replace('cut', 'blocked')}\n{prose(74)}",
                                    title="Brisvald mountain pass blocked by Tarnholm earthquake"))
    assert rewrite.story_id == report.story_id and rewrite.copy_group is None
    old_event = one_index.add(article("daily", "d-1", f"{floods.replace('closed', 'shut')}\n{prose(75)}",
                                      title="Vestmar coastal road shut as Kaldoran floods spread"))
    assert old_event.story_id != report.story_id
    first.close()
    second.close()
