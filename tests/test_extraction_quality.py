"""Each extraction heuristic on small hand-written pages: body cleaning, recovery, headline and standfirst."""

from __future__ import annotations

from lxml import etree
from lxml import html as lxml_html

import pipelines.extract as extract
from pipelines.extract import extract_article
from pipelines.extract.body import (
    _PROMPT,
    PROMPT_WORDS,
    Block,
    PageLinks,
    body_blocks,
    clean_body,
    is_prompt,
    looks_like_navigation,
)
from pipelines.extract.completion import continued_chunks, lines_in_article_body
from pipelines.extract.heading import choose_standfirst, choose_title, is_lede, undecorated
from pipelines.extract.metadata import read_metadata
from pipelines.extract.page_text import render_page_text

SENTENCES = [
    "The city council voted on Tuesday to expand the tram network across the river.",
    "Officials said the first new line would open within three years of the decision.",
    "Residents of the eastern districts have waited decades for a direct connection.",
    "The plan was approved after a long debate about costs and the route it would take.",
    "Opponents argued that buses could serve the same neighbourhoods for far less money.",
    "Supporters replied that trams carry more people and pollute less than the old buses.",
    "Construction is expected to begin next spring, once the contracts have been signed.",
    "The mayor called the vote a turning point for how people move around the city.",
]


def paragraphs(count: int = 8, offset: int = 0) -> str:
    return "".join(f"<p>{SENTENCES[(offset + i) % len(SENTENCES)]} ({offset + i})</p>" for i in range(count))


def page(article: str, head: str = "", before: str = "", after: str = "") -> str:
    return (
        f"<html><head><title>Trams approved | Daily</title>{head}</head><body>{before}"
        f"<article><h1>Trams approved</h1>{article}</article>{after}</body></html>"
    )


def root_of(html: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(html)


def blocks(*texts: str, kind: str = "p") -> list[Block]:
    return [Block(text, kind) for text in texts]


# ---------------------------------------------------------------- body blocks and boilerplate


def test_blocks_split_at_line_breaks_and_keep_loose_text() -> None:
    body = etree.fromstring(
        "<body>intro<p>June 9 -- Arena<lb/>June 10 -- Park</p>between<list><item>one</item></list></body>"
    )
    assert body_blocks(body) == [
        Block("intro", "loose"), Block("June 9 -- Arena", "p"), Block("June 10 -- Park", "p"),
        Block("between", "loose"), Block("one", "item"),
    ]


def test_linked_blocks_are_teasers_but_a_linked_subheading_over_its_paragraph_stays() -> None:
    summary = "A related story summary that sits inside a link card, long enough to be read as a paragraph of its own"
    links = PageLinks(root_of(
        '<html><body><a href="/a">Other story about taxes</a><a href="/b"><div><h3>Card</h3>'
        f"<p>{summary}</p></div></a><a href='/c'>Live update</a></body></html>"
    ))
    body = [Block("Paragraph one of the story.", "p"), Block("Other story about taxes", "p"), Block(summary, "p"),
            Block("Live update", "head"), Block("What happened next, in prose.", "p")]
    kept = ["Paragraph one of the story.", "Live update", "What happened next, in prose."]
    assert clean_body(body, links, []) == kept


def test_a_card_opening_with_a_linked_headline_and_its_blurbs_are_dropped() -> None:
    links = PageLinks(root_of(
        '<html><body><a href="/x">Rams top Bears as offenses struggle</a>'
        '<a href="/y">Pats place Olszewski on injured reserve</a></body></html>'
    ))
    body = blocks(
        "The game itself was close until the final minutes of play.",
        "Rams top Bears as offenses struggleNeither team could get going",
        "Pats place Olszewski on injured reserve New England reshuffles",
        "A short blurb after the last card",
    )
    assert clean_body(body, links, []) == ["The game itself was close until the final minutes of play."]


def test_prompts_labels_urls_datelines_and_repeated_headlines_go_but_prose_stays() -> None:
    links = PageLinks(root_of("<html><body></body></html>"))
    body = blocks(
        "Trams approved",
        "Sign up for our daily newsletter to get the news in your inbox.",
        "Follow us on Twitter for updates.",
        "Copyright © 2024 Daily Media. All rights reserved.",
        "Advertisement",
        "You may also like",
        "https://example.org/news/trams-approved",
        "Tuesday, 22 January 2018 at 0:13",
        "UPDATED: Tue., Nov. 19, 2019",
        "Thanks for signing up!",
        "Tags: trams, council, city",
        "June 9 -- Coral Sky Amphitheatre, West Palm Beach",
        "Read next: Council debates the bus budget",
        "The council's newsletter, sent to every household, had announced the vote weeks before; " + "word " * 40,
    )
    assert clean_body(body, links, ["Trams approved"]) == [
        "June 9 -- Coral Sky Amphitheatre, West Palm Beach",
        "Read next: Council debates the bus budget",  # in-body pointers stay, as the seed form says
        body[-1].text,
    ]


def test_prompt_words_in_a_long_paragraph_are_prose() -> None:
    assert is_prompt("Subscribe to our newsletter")
    assert not is_prompt("She said the newsletter " + "was read by many people in town " * 6)


def test_the_prompt_words_never_change_what_is_a_prompt() -> None:
    """is_prompt skips the search when a text has none of PROMPT_WORDS: a text for each alternative of the
    pattern is still found a prompt."""
    examples = [
        "Sign up", "Signing up for our briefing is free", "Subscribe today", "Our newsletters",
        "Straight to your inbox",
        "Follow @example", "Follow Example on Instagram", "Click here", "Download the Example News app",
        "Copyright Example Media", "All rights reserved", "© 2024 Example", "Mail jane@example.org",
        "She can be reached at the desk", "Log in or register to comment", "Create a free account",
        "Read the rules before commenting", "Choose a display name", "Read our Privacy Policy",
        "Join the conversation", "Thanks for signing up!", "An error has occurred", "Error processing your request",
        "Please try again later", "Filed under: politics", "Topics: world",
    ]
    for text in examples:
        assert _PROMPT.search(text.lower()), text
        assert any(word in text.lower() for word in PROMPT_WORDS), text
        assert is_prompt(text), text


def test_a_body_of_links_looks_like_navigation() -> None:
    menu = '<a href="/1">Home</a><a href="/2">World</a><a href="/3">Sport</a>'
    links = PageLinks(root_of(f"<html><body>{menu}</body></html>"))
    assert looks_like_navigation(blocks("Home", "World", "Sport", "Some text"), links)
    assert not looks_like_navigation(blocks("Home", "A paragraph.", "Another one.", "A third."), links)


def test_hidden_parts_of_the_page_stay_out_of_the_body() -> None:
    html = page(paragraphs(6) + "<div hidden><p>Metadata block that no reader ever sees on the page at all.</p></div>"
                + paragraphs(2, offset=6))
    article = extract_article(html, "https://example.org/trams")
    assert article is not None and "no reader ever sees" not in article.body and "(7)" in article.body


def test_a_fast_pass_that_found_a_menu_is_redone_with_the_full_cascade(monkeypatch) -> None:
    calls = []

    def fake(root, url, hints, fast):  # type: ignore[no-untyped-def]
        calls.append(fast)
        return blocks("Home", "World", "Sport") if fast else blocks(*SENTENCES)

    monkeypatch.setattr(extract, "_trafilatura_blocks", fake)
    html = page(paragraphs(8), before='<nav><a href="/">Home</a><a href="/w">World</a><a href="/s">Sport</a></nav>')
    article = extract_article(html, "https://example.org/trams")
    assert calls == [True, False] and article is not None and article.body.split("\n") == SENTENCES


# ---------------------------------------------------------------- recovery


def test_the_rest_of_an_article_cut_into_repeated_containers_is_recovered() -> None:
    html = (
        '<html><body><div class="chunks"><div class="body-part"><p>First part, paragraph one.</p>'
        '<p>First part, paragraph two.</p></div><div class="ad">Advert</div>'
        '<div class="body-part"><p>Second part, paragraph one.</p></div></div>'
        '<div class="footer"><p>Footer text</p></div></body></html>'
    )
    recovered = continued_chunks(root_of(html), ["First part, paragraph one.", "First part, paragraph two."])
    assert recovered == [Block("Second part, paragraph one.", "p")]
    assert continued_chunks(root_of(html), ["First part, paragraph one."]) == []  # stopped mid-chunk


def test_a_longer_stated_article_body_brings_back_the_lines_the_page_shows() -> None:
    shown = [f"{sentence} ({i})" for i, sentence in enumerate(SENTENCES)]
    stated = " ".join(s.replace("city", "[city](https://example.org)") for s in shown)  # markup residue
    page_lines = ["Menu", "", *shown[:4], "", "An advert in between the paragraphs", *shown[4:], "Footer"]
    assert lines_in_article_body(stated, page_lines, shown[:3]) == shown
    assert lines_in_article_body(stated, page_lines, ["Some unrelated text we found about other things"]) == [
        "Some unrelated text we found about other things"
    ]


# ---------------------------------------------------------------- headline


def test_a_confirmed_headline_takes_the_stated_spelling() -> None:
    html = ("<html><head><meta property='og:title' content=\"Council's 'tram' vote | Daily\">"
            "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", "
            "\"headline\": \"Council&#8217;s &#8216;tram&#8217; vote\"}</script></head>"
            "<body><h1>Council’s ‘tram’ vote</h1></body></html>")
    root = root_of(html)
    assert choose_title(root, read_metadata(root), render_page_text(root).split("\n")) == "Council's 'tram' vote"


def test_an_unconfirmed_h1_gives_way_to_the_stated_title_the_page_shows() -> None:
    html = ("<html><head><meta property='og:title' content='Inside the tram rebellion'><title>x</title>"
            "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": \"Tram rebels\"}</script>"
            "</head><body><h1>Log In</h1><h2>Inside the tram rebellion</h2></body></html>")
    root = root_of(html)
    assert choose_title(root, read_metadata(root), render_page_text(root).split("\n")) == "Inside the tram rebellion"


def test_site_decoration_comes_off_a_stated_title() -> None:
    bases = ["Trams approved after long debate"]
    assert undecorated("Trams approved after long debate - Local | Daily News", bases) == bases[0]
    assert undecorated("Opinion | Trams approved after long debate | Daily", bases) == bases[0]
    assert undecorated("Trams approved after long debate, council says", bases).endswith("council says")


# ---------------------------------------------------------------- standfirst


def standfirst_of(html: str, body: list[str], authors: list[str] | None = None) -> str:
    root = root_of(html)
    lines = render_page_text(root).split("\n")
    return choose_standfirst(root, read_metadata(root), "Trams approved", lines, body, authors or [])


def test_the_block_under_the_headline_is_the_dek_unless_a_byline_dateline_or_caption() -> None:
    body = [SENTENCES[0], SENTENCES[1]]
    tail = f"<p>{SENTENCES[0]}</p><p>{SENTENCES[1]}</p>"
    dek = "The vote ends a decade of arguments over the eastern line"
    assert standfirst_of(f"<html><body><h1>Trams approved</h1><p>{dek}</p>{tail}</body></html>", body) == dek
    byline = "By Jane Doe and John Roe, Daily reporters"
    assert standfirst_of(f"<html><body><h1>Trams approved</h1><p>{byline}</p>{tail}</body></html>", body) == ""
    dateline = "Published Fri, Apr 28 2023 2:23 PM EDT"
    assert standfirst_of(f"<html><body><h1>Trams approved</h1><p>{dateline}</p>{tail}</body></html>", body) == ""
    caption = "<div><figure><img src='t.jpg'><figcaption>A tram in the depot, seen in May</figcaption></figure></div>"
    assert standfirst_of(f"<html><body><h1>Trams approved</h1>{caption}{tail}</body></html>", body) == ""
    credit = "Jane Doe reports from the city hall"
    html = f"<html><body><h1>Trams approved</h1><p>{credit}</p>{tail}</body></html>"
    assert standfirst_of(html, body, ["Jane Doe"]) == ""


def test_a_stated_description_shown_only_below_the_body_start_is_no_dek() -> None:
    description = "The council approved the eastern tram line on Tuesday"
    head = f"<html><head><meta name='description' content='{description}'></head><body><h1>Trams approved</h1>"
    above = f"{head}<p>{description}</p><p>{SENTENCES[0]}</p><p>{SENTENCES[1]}</p></body></html>"
    below = f"{head}<p>{SENTENCES[0]}</p><p>{SENTENCES[1]}</p><aside><p>{description}</p></aside></body></html>"
    assert standfirst_of(above, [SENTENCES[0], SENTENCES[1]]) == description
    assert standfirst_of(below, [SENTENCES[0], SENTENCES[1]]) != description


def test_a_description_that_is_the_first_paragraph_is_the_lede() -> None:
    lede = root_of(f"<html><body><h1>T</h1><div><p>{SENTENCES[0]}</p><p>{SENTENCES[1]}</p></div></body></html>")
    dek = root_of(f"<html><body><h1>T</h1><h2>{SENTENCES[0]}</h2><div><p>{SENTENCES[1]}</p></div></body></html>")
    assert is_lede(lede, [SENTENCES[0], SENTENCES[1]])
    assert not is_lede(dek, [SENTENCES[0], SENTENCES[1]])


def test_the_lede_stays_in_the_body() -> None:
    head = f"<meta property='og:description' content='{SENTENCES[0]} (0)'>"
    article = extract_article(page(paragraphs(8), head=head), "https://example.org/trams")
    assert article is not None and article.standfirst == ""
    assert article.body.split("\n")[0] == f"{SENTENCES[0]} (0)"


# ---------------------------------------------------------------- metadata fallbacks


def test_a_page_that_states_no_date_gets_the_day_htmldate_finds() -> None:
    html = page(paragraphs(8), before='<div class="date">Posted on 2023-05-04</div>')
    article = extract_article(html, "https://example.org/2023/05/04/trams")
    assert article is not None and article.published == "2023-05-04"
