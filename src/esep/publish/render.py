"""Render an executed notebook (the audit record) to reader formats, without re-running.

HTML: nbconvert's ``basic`` template (cells only, inputs excluded) wrapped in esep's own
page (``templates/page.html.j2`` + ``report.css``): title block, table of contents,
footer with the data fingerprint. No external URL of any kind (no MathJax/require.js).
Other formats (PDF, DOCX) are produced from that HTML by :mod:`esep.formats`.
"""
from __future__ import annotations

import copy
import html
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import nbformat

from esep import __version__
from esep.core import periods
from esep.notebook import narrative
from esep.notebook.scraps import is_scrap_output, read_scraps

TEMPLATES = Path(__file__).parent / "templates"
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove", "remove_cell", "hide"}


def period_label(period: str) -> str:
    """'2023-2024-S2' -> '2023-2024 оқу жылының 2-жартыжылдығы' (home: esep.core.periods.label)."""
    return periods.label(period)


from esep.core.fsutil import atomic_write  # noqa: E402,F401  (re-exported: index uses it)


def reader_notebook(nb):
    """A copy of ``nb`` ready for readers: placeholders filled, code/noise removed."""
    nb = _copy_nb(nb)
    scraps = read_scraps(nb)
    # a section whose data is missing for the period: its narrative goes too (the
    # notebook shows a short note instead); cells say their section in metadata.esep.section
    skipped = scraps.get("sections_skipped") or []
    if isinstance(skipped, str):
        skipped = [s.strip() for s in skipped.split(",") if s.strip()]
    if skipped:
        nb.cells = [c for c in nb.cells
                    if not (c.cell_type == "markdown"
                            and c.get("metadata", {}).get("esep", {}).get("section") in skipped)]
    narrative.fill_notebook(nb, scraps)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "code":
            outs = [o for o in cell.get("outputs", [])
                    if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                    and not is_scrap_output(o)]
            cell.outputs = outs
            if not outs:
                continue
        if cell.cell_type == "raw":
            continue
        cells.append(cell)
    nb.cells = cells
    return nb


def _copy_nb(node):
    """A deep copy of a notebook (what ``copy.deepcopy`` gives: NotebookNodes, lists and
    the same immutable leaves) at a fraction of its cost: a notebook is JSON data."""
    from nbformat import NotebookNode

    t = type(node)
    if t is NotebookNode:
        return NotebookNode({k: _copy_nb(v) for k, v in node.items()})
    if t is list:
        return [_copy_nb(v) for v in node]
    if t in (str, int, float, bool) or node is None:
        return node
    return copy.deepcopy(node)


# -- the soup pass nbconvert's HTMLExporter makes, done without the soup --------------------
# HTMLExporter.from_notebook_node re-parses its whole output with BeautifulSoup
# (html.parser) to give an <img> without alt a placeholder alt (and JupyterLab-template
# cells a tabindex), then serializes the tree: about half of the HTML render. The body
# then goes through nh3 (sanitize.clean), which parses it again (html5ever) and writes
# its own tree, so what the soup pass does to the page is what it does to the tokens
# html5ever reads. For strictly nested markup (every tag closed in order, no comment,
# no duplicate attribute, ``&`` only in plain ``&name;``/``&#n;`` references in text,
# no raw-text/foreign element other than script and style) the soup's tree is the token
# stream, and its serialization changes exactly this: attributes sorted by name,
# multi-valued ones (``class``...) split on whitespace and joined by one space, a text
# made only of ASCII spaces becomes "\n" (if it holds one) or " " outside <pre>, a
# self-closed non-void tag (nbconvert's heading anchors ``<a class="anchor-link" .../>``)
# becomes an empty element ``<a ...></a>``, text and values re-escaped. ``_without_soup``
# makes the same tokens with a scanner (~1/10 of the cost) and says None for anything
# outside that subset (or an <img> without alt), where the soup pass runs as nbconvert's.
RAW_TEXT = {"script", "style"}
UNSAFE = {"textarea", "title", "plaintext", "xmp", "noscript", "iframe", "noembed", "noframes",
          "template", "svg", "math", "select", "option", "optgroup", "frameset", "frame", "head",
          "body", "html", "image", "isindex"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}
_TAG = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*)\s*(/?)>""")
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?""")
_LT = re.compile(r"<(?=[a-zA-Z/!?])")
_AMP = re.compile(r"&(?!(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{0,31});)")


@lru_cache(maxsize=1)
def _soup_rules():
    """What bs4's html.parser tree builder does to attributes and whitespace (its own
    tables, so a bs4 upgrade that changes them is followed)."""
    from bs4 import BeautifulSoup
    from bs4.builder import HTMLParserTreeBuilder

    b = HTMLParserTreeBuilder()
    multi = {tag: set(attrs) for tag, attrs in b.cdata_list_attributes.items()}
    return multi, set(b.preserve_whitespace_tags), set(b.empty_element_tags), BeautifulSoup.ASCII_SPACES


def _start_tag(name: str, attrs: list[tuple[str, str]], multi: dict) -> str:
    universal, own = multi.get("*", set()), multi.get(name, set())
    parts = [f"<{name}"]
    for key, value in sorted(attrs):
        if key in universal or key in own:
            value = " ".join(re.findall(r"\S+", value))
        parts.append(' %s="%s"' % (key, value.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")))
    return "".join(parts) + ">"


class _Unsure(Exception):
    """The markup is outside the subset the scanners below reproduce: use bs4."""


def _scan(html_text: str):
    """The tokens of strictly nested markup, as both scanners below need them:
    ``("text", text, open tag names)``, ``("start", name, (attributes, self-closed))``,
    ``("raw", name, content)`` (a script/style's content, after its start) and
    ``("end", name, None)``. Raises :class:`_Unsure` for anything else: a comment,
    doctype or broken tag, an unsafe or foreign element, a tag closed out of order, a
    duplicate attribute or ``&`` in an attribute value."""
    _, _, bs4_void, _ = _soup_rules()
    if "\x00" in html_text:
        raise _Unsure
    stack: list[str] = []
    pos, n = 0, len(html_text)
    while True:
        m = _LT.search(html_text, pos)
        text = html_text[pos:m.start() if m else n]
        if text:
            yield "text", text, stack
        if m is None:
            break
        tag = _TAG.match(html_text, m.start())
        if tag is None:                        # a comment, doctype, PI or broken tag
            raise _Unsure
        end, name, raw_attrs, selfclose = tag.group(1), tag.group(2).lower(), tag.group(3), tag.group(4)
        pos = tag.end()
        if name in UNSAFE or (name in bs4_void) != (name in VOID):
            raise _Unsure
        if end:
            if raw_attrs.strip() or selfclose or name in VOID or not stack or stack.pop() != name:
                raise _Unsure
            yield "end", name, None
            continue
        attrs, seen = [], set()
        for a in _ATTR.finditer(raw_attrs):
            key = a.group(1).lower()
            value = a.group(2) if a.group(2) is not None else (a.group(3) or "")
            if key in seen or "&" in value:
                raise _Unsure
            seen.add(key)
            attrs.append((key, value))
        yield "start", name, (attrs, bool(selfclose))
        if name in VOID or selfclose:
            continue
        if name in RAW_TEXT:                   # content up to its end tag, unparsed
            close = re.compile(rf"</{name}\s*>", re.I).search(html_text, pos)
            if close is None or re.search(rf"</{name}\b", html_text[pos:close.start()], re.I):
                raise _Unsure
            yield "raw", name, html_text[pos:close.start()]
            pos = close.end()
            continue
        stack.append(name)
    if stack:
        raise _Unsure


def _without_soup(html_text: str) -> str | None:
    """``html_text`` as nbconvert's soup pass would hand it on (the same tokens for an
    HTML5 parser), or None when it is outside the subset where that is known (above)."""
    multi, preserve, bs4_void, spaces = _soup_rules()
    if bs4_void != VOID and not (VOID <= bs4_void):
        return None
    if "jp-Notebook" in html_text:
        return None
    out: list[str] = []
    try:
        for kind, name, extra in _scan(html_text):
            if kind == "text":
                text = name
                if "&" in text and _AMP.search(text):
                    return None
                if not text.strip(spaces) and not any(t in preserve for t in extra):
                    text = "\n" if "\n" in text else " "
                out.append(text)
            elif kind == "end":
                out.append(f"</{name}>")
            elif kind == "start":
                attrs, selfclose = extra
                if name == "img" and "alt" not in {k for k, _ in attrs}:
                    return None
                out.append(_start_tag(name, attrs, multi))
                if selfclose and name not in VOID:   # the soup's empty element
                    out.append(f"</{name}>")
            else:                                   # raw text
                content = extra
                if not content.strip(spaces) and content:
                    content = "\n" if "\n" in content else " "
                out.append(content + f"</{name}>")
    except _Unsure:
        return None
    return "".join(out)


_PLAIN_REFS = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "nbsp": "\u00a0"}
_REF = re.compile(r"&(?:([a-z]+)|#([0-9]{2,3}));")


class _RawText(str):
    """The content of a <style>/<script>: not text (bs4's get_text leaves it out)."""


class _El:
    """The part of a bs4 Tag that :func:`esep.publish.formats.table_width_em` reads."""

    __slots__ = ("name", "attrs", "children")

    def __init__(self, name: str, attrs: dict):
        self.name, self.attrs, self.children = name, attrs, []

    def get(self, key, default=None):
        return self.attrs.get(key, default)

    def find_all(self, name, recursive=True):
        names = {name} if isinstance(name, str) else set(name)
        found = []

        def walk(el):
            for c in el.children:
                if isinstance(c, _El):
                    if c.name in names:
                        found.append(c)
                    if recursive:
                        walk(c)
        walk(self)
        return found

    def get_text(self, separator=""):
        strings = []

        def walk(el):
            for c in el.children:
                if isinstance(c, _El):
                    walk(c)
                elif not isinstance(c, _RawText):
                    strings.append(c)
        walk(self)
        return separator.join(strings)


def _tables(html_text: str):
    """The <table> elements of an output's HTML as bs4 (html.parser) would give them to
    ``table_width_em`` (every table, nested ones too), for strictly nested markup whose
    text has only ``&amp; &lt; &gt; &quot; &nbsp; &#NN;`` references; None otherwise
    (then the caller parses it with bs4)."""
    multi, _, _, _ = _soup_rules()
    root = _El("[document]", {})
    stack, tables, el = [root], [], root
    try:
        for kind, name, extra in _scan(html_text):
            if kind == "text":
                raw = name
                text = raw
                if "&" in raw:
                    bad = False

                    def ref(r):
                        nonlocal bad
                        if r.group(1) is not None:
                            if r.group(1) not in _PLAIN_REFS:
                                bad = True
                            return _PLAIN_REFS.get(r.group(1), "")
                        code = int(r.group(2))
                        bad = bad or not 32 <= code < 127
                        return chr(code)
                    text = _REF.sub(ref, raw)
                    if bad or "&" in _REF.sub("", raw):
                        return None
                stack[-1].children.append(text)
            elif kind == "end":
                stack.pop()
            elif kind == "start":
                attrs, selfclose = extra
                universal, own = multi.get("*", set()), multi.get(name, set())
                el = _El(name, {k: re.findall(r"\S+", v) if (k in universal or k in own) else v
                                for k, v in attrs})
                stack[-1].children.append(el)
                if name == "table":
                    tables.append(el)
                if not (name in VOID or selfclose or name in RAW_TEXT):
                    stack.append(el)
            else:                                   # raw text: the element just started
                el.children.append(_RawText(extra))
    except _Unsure:
        return None
    return tables


def _soup_pass(html_text: str, exporter) -> str:
    """nbconvert 7's HTMLExporter post-pass, as it is there."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_text, features="html.parser")
    missing_alt = 0
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = "No description has been provided for this image"
        missing_alt += 1
    if missing_alt:
        exporter.log.warning("Alternative text is missing on %s image(s).", missing_alt)
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    return str(soup)


@lru_cache(maxsize=1)
def _exporter():
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReaderExporter(HTMLExporter):
        """nbconvert's HTMLExporter with the same output for esep's reader notebooks at
        less CPU: the notebook is deep-copied once (not twice), validated once after the
        preprocessors (not after each of the 12), and the soup pass runs only where it
        can change the sanitized page (:func:`_soup_pass_matters`)."""

        def _preprocess(self, nb, resources):
            # ``nb`` is Exporter.from_notebook_node's own deep copy (nbconvert copies again)
            resc = copy.deepcopy(resources)
            _, nbc = nbformat.validator.normalize(nb)
            for preprocessor in self._preprocessors:
                nbc, resc = preprocessor(nbc, resc)
            self._validate_preprocessor(nbc, preprocessor)
            return nbc, resc

        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node (nbconvert 7) up to its soup pass
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            out, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            lean = _without_soup(out)
            return (_soup_pass(out, self) if lean is None else lean), resources

    exp = ReaderExporter(template_name="basic")
    exp.exclude_input = True
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    exp.anchor_link_text = ""
    return exp


@lru_cache(maxsize=1)
def _page_template():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("page.html.j2")


def _toc(body: str) -> list[dict]:
    items = []
    for m in re.finditer(r'<h([23])\s+id="([^"]+)"[^>]*>(.*?)</h\1>', body, re.S):
        text = re.sub(r"<[^>]+>", "", m.group(3)).strip()
        if text:
            items.append({"level": int(m.group(1)), "id": m.group(2), "text": html.unescape(text)})
    return items


def _demote_h1(body: str) -> str:
    """The page has one h1 (the title block); notebook h1 headings become h2."""
    return re.sub(r"<(/?)h1(\s|>)", r"<\1h2\2", body)


# a table wider than this (em at its own size) does not fit a 390 px phone screen: it
# scrolls in its own frame, under a hint saying so (templates/report.css)
PHONE_TABLE_EM = 38
_HINT = '<p class="esep-scroll-hint" aria-hidden="true">Кесте кең: көлденеңінен жылжытыңыз ⟷</p>'


def _figure_html(mime: str, data: str, caption: str) -> str:
    """A chart as ``<figure>``: the image (alt text = its caption) in a frame that may
    scroll sideways on a phone (chart text stays legible), the caption under it."""
    import base64

    if mime == "image/svg+xml":
        data = base64.b64encode(data.encode("utf-8")).decode("ascii")
    src = f"data:{mime};base64,{data.strip()}"
    alt = html.escape(caption or "Сурет", quote=True)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="esep-figure"><div class="esep-frame esep-figure-frame">'
            f'<img src="{src}" alt="{alt}"></div>{cap}</figure>')


def _layout_outputs(nb) -> None:
    """Charts become captioned figures; wide tables get a scroll frame with a hint."""
    from esep.publish.formats import table_width_em

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            meta = out.get("metadata") or {}
            mime = next((m for m in ("image/svg+xml", "image/png") if m in data), None)
            if mime and "text/html" not in data:
                m = meta.get(mime) or {}
                caption = (m.get("esep") or {}).get("caption") or m.get("alt") or ""
                out["data"] = {"text/html": _figure_html(mime, data[mime], caption)}
                out["metadata"] = {}
            elif "text/html" in data and "<table" in data["text/html"]:
                text = data["text/html"] if isinstance(data["text/html"], str) else "".join(data["text/html"])
                if 'class="esep-frame' in text:
                    continue
                tables = _tables(text)
                if tables is None:
                    from bs4 import BeautifulSoup

                    tables = BeautifulSoup(text, "html.parser").find_all("table")
                em = max((table_width_em(t) for t in tables), default=0)
                wide = " esep-wide" if em > PHONE_TABLE_EM else ""
                hint = _HINT if wide else ""
                data["text/html"] = f'{hint}<div class="esep-frame{wide}">{text}</div>'


def _frame_loose_tables(body: str) -> str:
    """Tables written in markdown cells (the data-quality appendix) get a scroll frame too."""
    out, pos = [], 0
    for m in re.finditer(r"<table\b.*?</table>", body, re.S):
        # inside an output's own frame: a frame opened since the previous table, in the same cell
        at = body.rfind('<div class="esep-frame', 0, m.start())
        between = body[at:m.start()] if at >= 0 else ""
        framed = at >= 0 and "</table>" not in between and "text_cell" not in between
        out.append(body[pos:m.start()])
        pos = m.end()
        if framed:
            out.append(m.group(0))
            continue
        first_row = re.search(r"<tr\b.*?</tr>", m.group(0), re.S)
        wide = first_row is not None and len(re.findall(r"<t[hd]\b", first_row.group(0))) > 4
        out.append((_HINT if wide else "") + f'<div class="esep-frame{" esep-wide" if wide else ""}">'
                   f'{m.group(0)}</div>')
        pos = m.end()
    return "".join(out) + body[pos:]


def render_html(nb, *, title: str, period: str, place: str | None = None,
                fingerprint: str = "", built: datetime | None = None) -> str:
    rnb = reader_notebook(nb)
    _layout_outputs(rnb)
    body, _ = _exporter().from_notebook_node(rnb)
    from esep.publish import sanitize  # no live markup from data or editor text (issue 17)

    body = sanitize.clean_body(body, rnb)
    body = narrative.renumber_marks(body)     # corrections marks numbered in reading order
    body = _demote_h1(body).replace('alt="No description has been provided for this image"', 'alt="Сурет"')
    body = _frame_loose_tables(body)
    built = built or datetime.now()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return _page_template().render(
        title=title, period=period, period_label=period_label(period), place=place,
        built_date=built.strftime("%Y-%m-%d %H:%M"), fingerprint=fingerprint[:12],
        toc=_toc(body), body=_markup(body), css=_markup(css), version=__version__,
    )


def _markup(s: str):
    from markupsafe import Markup

    return Markup(s)


EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)


def external_urls(page: str) -> list[str]:
    """Every place a page would load something from the network (should be none)."""
    return [page[max(0, m.start() - 40): m.end() + 60] for m in EXTERNAL_URL.finditer(page)]
