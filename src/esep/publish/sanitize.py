"""No live markup in what readers get: an allow-list sanitizer (``nh3``, the Python
binding of Rust's ``ammonia``) for the body of every rendered page.

Everything a report shows passes through :func:`clean` before HTML, PDF and DOCX are
made (PDF and DOCX are made from the HTML): editor markdown (which may hold raw HTML),
text filled from data, tables, captions. Kept: text structure (headings, paragraphs,
lists, tables, figures, emphasis), ``class``/``id``/``scope``/``rowspan``/``colspan``,
images embedded as ``data:image/...`` (charts), in-page links (``#...``) and relative
links without a scheme. Removed: ``<script>``, ``<style>`` not produced by esep's own
table code, event handlers (``on*``), ``<iframe>``/``<object>``/``<embed>``/forms,
``javascript:``/``data:`` links, anything that would load from or link to the network
(``http:``, ``https:``, ``//host``), inline ``style`` with ``url(...)``.
"""
from __future__ import annotations

import re

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "section", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}
GENERIC = {"class", "id", "title", "lang", "dir", "role", "aria-label", "aria-hidden", "style"}
ATTRIBUTES = {
    "*": GENERIC,
    "a": {"href"},
    "span": {"data-declared"},   # a corrected figure's printed value (esep-corrected marks)
    "img": {"src", "alt", "width", "height"},
    "td": {"rowspan", "colspan", "headers"},
    "th": {"rowspan", "colspan", "headers", "scope"},
    "ol": {"start"},
    "col": {"span"},
    "colgroup": {"span"},
}
# tags removed together with their content
DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg",
                "math", "form", "textarea", "select", "frame", "frameset", "applet", "link", "meta",
                "base", "title"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+$", re.I)
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*)\s*:")
_BAD_CSS = re.compile(r"url\s*\(|@import|expression\s*\(|javascript:|behavior\s*:|-moz-binding|\\|<|image-set|image\s*\(", re.I)
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.I | re.S)


def _local_ref(value: str) -> bool:
    """An in-page anchor or a relative path with no scheme and no host."""
    v = value.strip()
    if not v:
        return False
    if v.startswith("#"):
        return True
    if v.startswith(("//", "\\\\", "/\\", "\\/")) or _SCHEME.match(v):
        return False
    return not any(ch in v for ch in "\x00\n\r\t")


def _attribute_filter(tag: str, attr: str, value: str):
    if attr == "src":
        return value if tag == "img" and _DATA_IMAGE.match(value.strip()) else None
    if attr == "href":
        return value if _local_ref(value) else None
    if attr == "style":
        return None if _BAD_CSS.search(value) else value
    return value


def safe_css(css: str) -> bool:
    """CSS that loads nothing and cannot break out of its ``<style>`` element."""
    return not _BAD_CSS.search(css) and "</" not in css


def trusted_styles(html_outputs: list[str]) -> list[str]:
    """The distinct ``<style>`` blocks of esep's own code-cell outputs (the table CSS
    of :mod:`esep.kit.present`) that are safe CSS, in order of first appearance."""
    seen: dict[str, None] = {}
    for out in html_outputs:
        for m in _STYLE_BLOCK.finditer(out):
            css = m.group(1).strip()
            if css and safe_css(css):
                seen.setdefault(css, None)
    return list(seen)


def clean(body: str, styles: list[str] | None = None) -> str:
    """``body`` with only allow-listed markup; each of ``styles`` once at the top."""
    import nh3

    out = nh3.clean(
        body, tags=TAGS, clean_content_tags=DROP_CONTENT, attributes=ATTRIBUTES,
        attribute_filter=_attribute_filter, url_schemes={"data"}, strip_comments=True,
        link_rel=None,
    ).replace("&nbsp;", "\u00a0")  # the serializer writes U+00A0 as an entity: keep the character
    if styles:
        out = "".join(f"<style>{css}</style>\n" for css in styles) + out
    return out


# --- the scan of a finished output (tests, `make faults`) ----------------------------

_LIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "applet", "svg", "math", "form",
              "base", "link", "portal"}
_URL_ATTRS = {"href", "src", "action", "formaction", "srcset", "poster", "data", "background",
              "xlink:href", "cite", "longdesc", "lowsrc", "ping"}
_EXTERNAL = re.compile(r"^\s*(?:(?:https?|ftp|javascript|vbscript|file):|//|\\\\)", re.I)
_CSS_FETCH = re.compile(r"url\s*\(\s*[\"']?\s*(?:(?:https?|javascript):|//)|@import|expression\s*\(", re.I)


def live_markup(page: str) -> list[str]:
    """Every place in an HTML ``page`` that would run or fetch something, or link out:
    a live tag, an event handler, an external or ``javascript:`` URL, CSS that fetches.
    Text that merely *shows* such markup (escaped) is not live."""
    from html.parser import HTMLParser

    hits: list[str] = []

    class _Scan(HTMLParser):
        in_style = False

        def handle_starttag(self, tag, attrs):
            tag = tag.lower()
            where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs)[:120]}>"
            if tag in _LIVE_TAGS:
                hits.append(where)
            if tag == "meta" and any(k == "http-equiv" for k, _ in attrs):
                hits.append(where)
            for k, v in attrs:
                k, v = k.lower(), v or ""
                if k.startswith("on"):
                    hits.append(where)
                elif k in _URL_ATTRS and (_EXTERNAL.match(v) or (v.lower().startswith("data:") and tag != "img")):
                    hits.append(where)
                elif k == "style" and _CSS_FETCH.search(v):
                    hits.append(where)
            self.in_style = tag == "style"

        def handle_endtag(self, tag):
            self.in_style = False

        def handle_data(self, data):
            if self.in_style and _CSS_FETCH.search(data):
                hits.append(f"<style>{data[:120]}")

    _Scan(convert_charrefs=True).feed(page)
    return hits


def docx_external(rels_xml: str) -> list[str]:
    """External targets (hyperlinks, linked images) in a DOCX part's relationships."""
    return re.findall(r'<Relationship\b[^>]*TargetMode="External"[^>]*>', rels_xml)


def clean_body(body: str, reader_nb) -> str:
    """The exported body of ``reader_nb`` sanitized; the table CSS its code cells
    produced kept once (markdown cells cannot add any)."""
    html_outputs = []
    for cell in reader_nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {}) if isinstance(o, dict) else {}
            h = data.get("text/html")
            if h:
                html_outputs.append("".join(h) if isinstance(h, list) else str(h))
    return clean(body, trusted_styles(html_outputs))
