"""Reading the dashboard's HTML as a test would read the screen: the elements with their
attributes and the ids of the panels they sit in."""

from dataclasses import dataclass
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict
    within: tuple[str, ...]  # ids of the ancestors

    def __getitem__(self, name):
        return self.attrs[name]

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[tuple[str, str | None]] = []

    def _ids(self) -> tuple[str, ...]:
        return tuple(element_id for _, element_id in self.stack if element_id)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append(Element(tag, attrs, self._ids()))
        if tag not in VOID:
            self.stack.append((tag, attrs.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, dict(attrs), self._ids()))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break


def elements(html: str | bytes, css_class: str, *, within: str | None = None) -> list[Element]:
    """Elements carrying `css_class`, optionally inside the element with id `within`."""
    collector = _Collector()
    collector.feed(html.decode() if isinstance(html, bytes) else html)
    return [
        element
        for element in collector.elements
        if css_class in element.classes and (within is None or within in element.within)
    ]
