"""The one-page HTML export: structure checked with html.parser, text escaped, options."""

from __future__ import annotations

from html.parser import HTMLParser

from studio.formats import html as html_format
from studio.formats.registry import ExportDoc, ExportOptions

DOC = ExportDoc(
    title="The <Lighthouse> & Sea", logline="A *storm* story.", language="fr",
    metadata={"author": "Jane Doe"},
    content={"manuscript": {"chapters": [
        {"id": "chap_a", "title": "Arrival", "meta": {"synopsis": "She comes <home>."},
         "scenes": [
             {"id": "scene_1", "title": "Dock", "segments": [
                 {"id": "seg_1", "text": "The **wind** rose & fell."},
                 {"id": "seg_2", "text": "<script>alert(1)</script>"}]},
             {"id": "scene_2", "title": "Lamp", "meta": {"synopsis": "Night."},
              "segments": [{"id": "seg_3", "text": "She lit the _lamp_."},
                           {"id": "seg_4", "text": "***"},
                           {"id": "seg_5", "text": "Dawn."}]}]},
        {"id": "chap_b", "title": "", "scenes": []}]}})


class Outline(HTMLParser):
    """What matters of the page: tags with attributes, text per tag, the open-tag stack."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "hr", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and data.strip():
            self.text.setdefault(self.stack[-1], []).append(data.strip())

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag
                and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


def parse(text: str) -> Outline:
    page = Outline()
    page.feed(text)
    page.close()
    assert page.stack == [], "every element is closed"
    return page


def test_page_structure_for_phones():
    text = html_format.render(DOC, ExportOptions(synopses=True))
    assert text.startswith("<!DOCTYPE html>\n<html lang=\"fr\">")
    page = parse(text)
    assert page.find("meta", name="viewport")[0]["content"] == \
        "width=device-width, initial-scale=1"
    assert page.find("meta", charset="utf-8")
    assert page.find("meta", name="author")[0]["content"] == "Jane Doe"
    assert page.text["title"] == ["The <Lighthouse> & Sea"]
    assert page.text["h1"] == ["The <Lighthouse> & Sea"]
    style = "".join(page.text["style"])
    assert "max-width: 36em" in style and "prefers-color-scheme: dark" in style
    assert "serif" in style
    assert not page.find("script") and not page.find("link") and "src=" not in text
    # the table of contents links to every chapter, which carries that id
    links = [a["href"] for a in page.find("a")]
    assert links == ["#chapter-1", "#chapter-2"]
    ids = [a["id"] for a in page.find("section", class_="chapter")]
    assert ids == ["chapter-1", "chapter-2"]
    assert page.text["h2"] == ["Contents", "Arrival", "Chapter 2"]


def test_text_is_escaped_with_light_markdown():
    text = html_format.render(DOC, ExportOptions(synopses=True))
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "The <strong>wind</strong> rose &amp; fell." in text
    assert "She lit the <em>lamp</em>." in text
    assert '<p class="logline">A <em>storm</em> story.</p>' in text
    assert '<p class="synopsis">She comes &lt;home&gt;.</p>' in text
    assert '<p class="synopsis">Night.</p>' in text


def test_scene_breaks_headings_and_options():
    page = parse(html_format.render(DOC, ExportOptions(scene_break="❦")))
    breaks = page.find("p", class_="scene-break")
    assert len(breaks) == 2  # between the scenes, and the *** in the prose
    assert page.text["p"].count("❦") == 2
    assert not page.find("p", class_="synopsis")  # synopses are off by default
    assert not page.find("h3")
    page = parse(html_format.render(DOC, ExportOptions(extra={"scene_headings": True},
                                                       front_matter=False,
                                                       chapters=("chap_a",))))
    assert page.text["h3"] == ["Dock", "Lamp"]
    assert "h1" not in page.text
    assert [a["href"] for a in page.find("a")] == ["#chapter-1"]


def test_write_goes_to_the_file(tmp_path):
    out = html_format.write(DOC, tmp_path / "story.html", ExportOptions())
    assert out.read_text(encoding="utf-8") == html_format.render(DOC, ExportOptions())
    assert [p.name for p in tmp_path.iterdir()] == ["story.html"]
