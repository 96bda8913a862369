"""Authors and headlines on publishers nobody tuned on (issue 16): each failure class of the labelled corpora
as a small page of its own, through the whole extractor."""

from __future__ import annotations

import pytest

from pipelines.extract import authors, extract_article, heading
from pipelines.extract.authors import credit_names

PARAGRAPHS = "".join(
    f"<p>{sentence} The council met again on Tuesday evening to discuss the plan in detail ({n}).</p>"
    for n, sentence in enumerate([
        "The city council voted on Monday to extend the tram line to the harbour.",
        "Residents of the eastern districts had asked for the extension for a decade.",
        "Construction is expected to start next spring and to last about two years.",
        "The mayor said the line would carry twenty thousand passengers a day.",
        "Opponents argued that buses would serve the same streets at a fraction of the cost.",
        "A public consultation drew more than four thousand written responses last year.",
    ])
)


def page(head: str = "", header: str = "", footer: str = "", title: str = "Council extends the tram line") -> str:
    return (f"<html><head><title>{title}</title>{head}</head><body><header><a href='/'>Home</a></header>"
            f"<article><h1>Council extends the tram line</h1>{header}{PARAGRAPHS}</article>"
            f"<footer>{footer}</footer></body></html>")


def authors_of(html: str) -> list[str]:
    article = extract_article(html, "https://example.org/2024/05/04/trams")
    assert article is not None
    return article.authors


@pytest.mark.parametrize(("credit", "names"), [
    ("By Jeff Foust Monday, November 18, 2019", ["Jeff Foust"]),
    ("Saibal Dasgupta / TNN / Updated: Oct 9, 2018, 10:05 IST", ["Saibal Dasgupta", "TNN"]),
    ("Pete Evans · CBC News · Posted: Oct 11, 2016", ["Pete Evans", "CBC News"]),
    ("Howard Blume, Staff Writer", ["Howard Blume"]),
    ("Sam Stein Senior Politics Editor", ["Sam Stein"]),
    ("Meg Wagner NEW YORK DAILY NEWS", ["Meg Wagner"]),
    ("Joe Davidson Washington Post", ["Joe Davidson"]),
    ("By Daniel Kahn Gillmor, Senior Staff Technologist, ACLU Speech, Privacy, and Technology Project",
     ["Daniel Kahn Gillmor"]),
    ("Michael Larabel in Valve on 19 April 2017", ["Michael Larabel"]),
    ("ByTravis Haney Dec 9, 2016", ["Travis Haney"]),
    ("Martin Untersinger (avec Damien Leloup et Morgane Tual)",
     ["Martin Untersinger", "Damien Leloup", "Morgane Tual"]),
    ("Rob Ewaschuk Edited by Betsy Beyer", ["Rob Ewaschuk", "Betsy Beyer"]),
    ("Ysabel Yates Illustration by Claire Lordon", ["Ysabel Yates"]),
    ("Jane Doe (Image: Getty Images)", ["Jane Doe"]),
    ("Mike Cason | mcason@al.com", ["Mike Cason"]),
    ("Jon Fingas, @jonfingas", ["Jon Fingas"]),
    ("Our Foreign Staff", []),
    ("AOL Staff", ["AOL Staff"]),  # a desk's credit stays whole: it is not a person, and not "AOL" either
])
def test_a_shown_credit_reads_as_the_names_it_gives(credit: str, names: list[str]) -> None:
    assert credit_names(credit, visible=True) == names


def test_hostile_credits_are_read_in_linear_time() -> None:
    """Each of these took exponential or quadratic time in an earlier pattern (a page could stall extraction)."""
    assert credit_names("Jo " + "A" * 60 + "a", visible=True) == ["Jo " + "A" * 60 + "a"]
    assert credit_names("Jo " + " ".join(["AB"] * 40) + " x", visible=True) == []  # no name is that long
    assert credit_names("x" * 100_000 + "@", visible=False) == []
    assert credit_names("Ann Lee " + "(" * 5_000, visible=True) == []  # one part, longer than any name


def test_a_name_is_not_cut_at_a_word_that_starts_like_by() -> None:
    assert credit_names("Byron Smith", visible=True) == ["Byron Smith"]


def test_the_outlets_group_in_the_author_tag_gives_way_to_the_writer_it_credits() -> None:
    head = ('<meta name="author" content="Condé Nast"><meta property="article:author" content="Emma Grey Ellis">'
            '<meta property="og:site_name" content="Wired">')
    assert authors_of(page(head, footer="<p>© 2022 Condé Nast. All rights reserved.</p>")) == ["Emma Grey Ellis"]


def test_the_outlet_as_author_gives_way_to_the_byline_shown() -> None:
    head = '<meta name="author" content="Us Weekly Staff"><meta property="og:site_name" content="Us Weekly">'
    assert authors_of(page(head, '<div class="content-byline">By Megan French</div>')) == ["Megan French"]
    head = '<meta name="author" content="ABC News"><meta property="og:site_name" content="ABC News">'
    assert authors_of(page(head)) == ["ABC News"]  # no person named anywhere: the credit as stated


def test_a_username_gives_way_to_the_name_in_the_byline() -> None:
    head = '<meta name="sailthru.author" content="mikecason">'
    byline = '<div class="byline">By <a class="byline__authorLink">Mike Cason | mcason@al.com</a></div>'
    assert authors_of(page(head, byline)) == ["Mike Cason"]


def test_a_by_line_over_the_article_credits_its_writer() -> None:
    assert authors_of(page(header="<p>By Yomi Kazeem</p>")) == ["Yomi Kazeem"]


def test_an_element_about_the_author_credits_the_writer_when_no_byline_does() -> None:
    assert authors_of(page(header='<div class="author-box"><span class="post-author">Tana Ganeva</span></div>')) \
        == ["Tana Ganeva"]
    bio = "Jane Doe is a reporter who has covered the city for years."
    assert authors_of(page(header=f'<p class="author">{bio}</p>')) == []


def test_author_markup_of_other_stories_is_not_the_articles() -> None:
    related = "".join(f'<li><a href="/s{n}">Story {n}</a> <span itemprop="author">{name}</span></li>'
                      for n, name in enumerate(["Rebecca Astill", "Jack Rear"]))
    header = ('<div class="e-byline"><span class="e-byline__meta"><a itemprop="author">By Madeleine Howell</a>'
              '</span></div>')
    html = page(header=header, footer=f"<aside><ul>{related}</ul></aside>")
    assert authors_of(html) == ["Madeleine Howell"]


def test_a_commenters_byline_is_not_the_articles() -> None:
    comments = '<aside id="comments"><div class="byline">S Sky</div><div class="byline">Ann Other</div></aside>'
    assert authors_of(page(header=f'{comments}<div class="author-name">NATALIYA VASILYEVA</div>')) \
        == ["NATALIYA VASILYEVA"]


def test_json_ld_persons_come_first_and_an_organisation_only_when_nobody_is_named() -> None:
    person = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council extends the tram '
              'line", "author": [{"@type": "Person", "name": "Ann Lee"}, {"@type": "Person", "name": "Bo Chen"}]}'
              '</script>')
    assert authors_of(page(person, '<p class="byline">By Someone Else</p>')) == ["Ann Lee", "Bo Chen"]
    organisation = ('<script type="application/ld+json">{"@type": "NewsArticle", "author": {"@type": '
                    '"Organization", "name": "Harbour Times"}}</script>')
    assert authors_of(page(organisation, "<p>By Kim Park</p>")) == ["Kim Park"]
    assert authors_of(page(organisation)) == ["Harbour Times"]


def test_every_rule_can_be_switched_off_for_the_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """python -m evaluation --rules measures each rule by switching it off: each one must change something."""
    credits = {"contacts": "Jon Fingas, @jonfingas", "names-end": "By Jeff Foust Monday, November 18, 2019",
               "picture-credits": "Ysabel Yates Illustration by Claire Lordon",
               "joined": "Rob Ewaschuk Edited by Betsy Beyer", "roles": "Howard Blume, Staff Writer"}
    for rule, credit in credits.items():
        with_rule = credit_names(credit, visible=True)
        monkeypatch.setattr(authors, "ENABLED", frozenset(authors.RULES) - {rule})
        assert credit_names(credit, visible=True) != with_rule, rule
        monkeypatch.setattr(authors, "ENABLED", frozenset(authors.RULES))
    assert set(credits) | {"organisations", "copyright-holder", "one-byline", "by-line", "about-author",
                            "not-comments"} \
        == set(authors.RULES)


def test_a_section_heading_gives_way_to_the_page_title_the_page_shows() -> None:
    html = ("<html><head><title>Babies who eat peanuts early may avoid allergy</title></head><body>"
            "<h1>Allergies Health Center</h1><article><h2>Babies who eat peanuts early may avoid allergy</h2>"
            f"{PARAGRAPHS}</article></body></html>")
    article = extract_article(html, "https://example.org/allergy")
    assert article is not None and article.title == "Babies who eat peanuts early may avoid allergy"


def test_the_sites_name_as_an_h1_is_not_the_headline() -> None:
    html = ("<html><head><title>Outside the web: standalone binaries · V8</title></head><body><h1>V8</h1>"
            f"<article><h1>Outside the web: standalone binaries</h1>{PARAGRAPHS}</article></body></html>")
    article = extract_article(html, "https://example.org/v8")
    assert article is not None and article.title == "Outside the web: standalone binaries"
    assert "site-label-h1" in heading.RULES


def test_the_rules_report_names_each_publisher_and_applies_the_bar() -> None:
    from evaluation import rules

    assert rules.publisher("postlight", {"id": "www.newyorker.com--multiple-authors.html"}) \
        == "postlight:www.newyorker.com"
    assert rules.publisher("readability", {"id": "yahoo-2"}) == "readability:yahoo"
    assert rules.publisher("fundus", {"id": "x", "truth": {"publisher": "BBC"}}) == "fundus:BBC"
    assert rules._enters("by-line", {"a", "b", "c"}, set())
    assert not rules._enters("by-line", {"a", "b"}, set())  # two publishers: not enough
    assert not rules._enters("by-line", {"a", "b", "c", "d"}, {"e"})  # costs a page elsewhere
    assert rules._enters("contacts", {"a"}, set())  # asked for by name, costs nothing
    page = (  # the same page, extracted with one rule on and off
        '<html><head><title>Council extends the tram line</title></head><body><article>'
        f'<h1>Council extends the tram line</h1><p class="byline">Howard Blume Staff Writer</p>{PARAGRAPHS}'
        '</article></body></html>')
    with_roles = rules.WithRules("authors", frozenset(authors.RULES))(page, "https://example.org/a")
    without_roles = rules.WithRules("authors", frozenset(authors.RULES) - {"roles"})(page, "https://example.org/a")
    assert with_roles.authors == ["Howard Blume"] and without_roles.authors != ["Howard Blume"]
    assert authors.ENABLED == frozenset(authors.RULES)  # restored after each call
