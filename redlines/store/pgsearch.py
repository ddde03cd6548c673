"""Full-text search on PostgreSQL: the one place that knows its `tsvector` index (migration 0011).

The index holds the same rows as SQLite's FTS5 index (a threat's text, an event's, a quote), each
with a `tsvector` of its words: the text cut at every character that is not a letter or a digit
(as FTS5's unicode61 tokenizer cuts it), lowercased and with Latin diacritics removed (as its
`remove_diacritics 2` does), in the 'simple' configuration (no stop words, no stemming). A query
in the syntax the product accepts (FTS5's: words, "phrases", prefix*, AND, OR, NOT, parentheses,
`+`; phrases side by side are ANDed and bind tightest, then NOT, AND, OR) is
translated into a `tsquery`, so that the same rows match as on SQLite; a query that FTS5 could not
parse is searched as its plain words, as on SQLite. Ranking is PostgreSQL's (`ts_rank_cd`), so the
order and the scores may differ from SQLite's; the set of threats found does not.
"""

from __future__ import annotations

import re

from redlines.domain.snippets import CLOSE, OPEN
from redlines.store.search import Upkeep

_LETTERS = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'\s*(?:(?P<phrase>"(?:[^"]|"")*")|(?P<word>[\w\x1a\x80-\U0010ffff]+)|(?P<op>[()*])|(?P<other>\S))')


class Unreadable(ValueError):
    """The query is not in the search syntax (FTS5 would refuse it)."""


# FTS5's `remove_diacritics 2` folds Latin letters to their base letter (é -> e, ğ -> g, ệ -> e), and
# these few not; 0011 folds the index's text with the same table (`fold_pairs`).
_NOT_FOLDED = "ǠǡǢǣǮǯǼǽǾǿ"


def fold_pairs() -> tuple[str, str]:
    """The Latin letters with diacritics and their base letters, as two strings of equal length."""
    import unicodedata

    src, dst = [], []
    for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(cp)
        base = "".join(x for x in unicodedata.normalize("NFD", ch) if not unicodedata.combining(x))
        if len(base) == 1 and base != ch and ch not in _NOT_FOLDED:
            src.append(ch)
            dst.append(base)
    return "".join(src), "".join(dst)


_FOLD: dict[int, str] | None = None


def _lexemes(text: str) -> list[str]:
    global _FOLD
    if _FOLD is None:
        src, dst = fold_pairs()
        _FOLD = str.maketrans(src, dst)
    return [w.lower().translate(_FOLD) for w in _LETTERS.findall(text)]


def _term(text: str, prefix: bool) -> str:
    words = _lexemes(text)
    if not words:
        return ""
    parts = [f"'{w}'" for w in words]
    if prefix:
        parts[-1] += ":*"
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def to_tsquery(query: str) -> str:
    """The tsquery text of a query in the product's search syntax; `Unreadable` if it is not."""
    toks: list[tuple[str, str]] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:
            break
        pos = m.end()
        kind = m.lastgroup
        if kind is None:
            break
        if kind == "other" and m.group(kind) != "+":
            raise Unreadable(m.group(kind))
        toks.append((kind, m.group(kind)))
    i = 0

    def peek() -> tuple[str, str] | None:
        return toks[i] if i < len(toks) else None

    def take() -> tuple[str, str]:
        nonlocal i
        i += 1
        return toks[i - 1]

    def keyword(tok, name: str) -> bool:
        return tok is not None and tok[0] == "word" and tok[1] == name

    def phrase() -> str:
        """A word or a "string", with `*` (a prefix) and `+` joining phrases into one."""
        parts: list[str] = []
        while True:
            tok = take()
            text = tok[1][1:-1].replace('""', '"') if tok[0] == "phrase" else tok[1]
            prefix = peek() == ("op", "*")
            if prefix:
                take()
            parts.append(_term(text, prefix))
            if peek() != ("other", "+"):
                break
            take()
            if not is_phrase(peek()):
                raise Unreadable("+")
        kept = [p for p in parts if p]
        return kept[0] if len(kept) == 1 else ("(" + " <-> ".join(kept) + ")" if kept else "")

    def is_phrase(tok) -> bool:
        return tok is not None and (tok[0] == "phrase" or (tok[0] == "word" and tok[1] not in ("AND", "OR", "NOT")))

    def sequence() -> str:
        """A group in parentheses, or phrases side by side (ANDed: FTS5 binds them tightest,
        and allows no group beside them)."""
        tok = peek()
        if tok == ("op", "("):
            take()
            inner = expr()
            if peek() != ("op", ")"):
                raise Unreadable(")")
            take()
            return inner
        if not is_phrase(tok):
            raise Unreadable(tok[1] if tok else "end")
        out = phrase()
        while is_phrase(peek()):
            out = _join(out, phrase(), "&")
        if peek() == ("op", "("):
            raise Unreadable("(")
        return out

    def chain(operand, word: str, op: str):
        """Operands joined left to right by one keyword (FTS5: NOT binds tightest, then AND, OR)."""

        def parse() -> str:
            left = operand()
            while keyword(peek(), word):
                take()
                left = _join(left, operand(), op)
            return left

        return parse

    negation = chain(sequence, "NOT", "& !")
    conjunction = chain(negation, "AND", "&")
    expr = chain(conjunction, "OR", "|")

    if not toks:
        raise Unreadable("empty")
    out = expr()
    if i != len(toks):
        raise Unreadable(toks[i][1])
    return out


def _join(left: str, right: str, op: str) -> str:
    """Two tsquery texts joined; a term without letters matches nothing, as in FTS5 (an empty
    phrase): it empties an AND, and leaves the other side of an OR or of a NOT."""
    if not left or not right:
        if op == "|":
            return left or right
        if op == "& !":
            return left
        return ""
    return f"({left} {op} {right})"


def _plain(query: str) -> str:
    words = re.findall(r"\w+", query)
    return " ".join(f'"{w}"' for w in words)


def usable(query: str) -> str:
    """The query as searched: as typed, or as its plain words when it cannot be read."""
    try:
        to_tsquery(query)
    except Unreadable:
        return _plain(query)
    return query


def as_searched(conn, query: str) -> str | None:
    plain = usable(query)
    return None if plain == query else plain


def _tsquery(query: str) -> str | None:
    try:
        return to_tsquery(usable(query)) or None
    except Unreadable:
        return None


# Keeping the index: new rows are indexed by the code that writes them (`Writer.insert` one at a
# time, the bulk loader and `db copy` in one pass), as on SQLite; 0011's triggers handle updates of
# the indexed text, and deletes. The index keeps each row's kind, threat and event beside its words.
_THREATS = (
    "SELECT t.rowid * 3, 'threat', t.id, NULL, coalesce(t.statement, '') || ' ' || "
    "coalesce(t.trigger, '') || ' ' || coalesce(t.consequence, '') FROM threat t"
)
_EVENTS = "SELECT e.rowid * 3 + 1, 'event', e.threat_id, e.id, e.what FROM event e"
_CITATIONS = (
    "SELECT c.id * 3 + 2, 'quote', coalesce(c.threat_id, (SELECT threat_id FROM event WHERE id = c.event_id)), "
    "c.event_id, c.quote FROM citation c"
)
_INSERT = "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
UPKEEP = Upkeep(_INSERT, _THREATS, _EVENTS, _CITATIONS, "SELECT 1 FROM search s WHERE s.rowid = {}", batched=True)


_VISIBLE = (
    "FROM search s JOIN threat t ON t.id = s.threat_id LEFT JOIN event e ON e.id = s.event_id "
    "WHERE s.doc @@ CAST(%(q)s AS tsquery) AND t.made_on <= %(as_of)s "
    "AND (e.id IS NULL OR e.occurred_on <= %(as_of)s)"
)
_HEADLINE = (
    f"StartSel={OPEN}, StopSel={CLOSE}, MaxWords=14, MinWords=6, ShortWord=0, MaxFragments=1, "
    "FragmentDelimiter=…, HighlightAll=FALSE"
)


def search(conn, query: str, as_of: str, limit: int | None) -> list[dict]:
    """As `redlines.store.search.search`: the threats matching, best first, with their passages."""
    if limit == 0:
        return []
    q = _tsquery(query)
    if q is None:
        return []
    rows = conn.raw_execute(
        "WITH hits AS MATERIALIZED (SELECT s.rowid, s.threat_id, s.kind, s.event_id, s.body, "
        "ts_rank_cd(s.doc, CAST(%(q)s AS tsquery)) AS score " + _VISIBLE + "), "
        "best AS (SELECT threat_id, max(score) AS top, max(rowid) AS latest FROM hits GROUP BY threat_id "
        "ORDER BY top DESC, latest DESC LIMIT %(limit)s) "
        "SELECT h.* FROM hits h JOIN best b ON b.threat_id = h.threat_id "
        "ORDER BY b.top DESC, b.latest DESC, h.score DESC, h.rowid DESC",
        {"q": q, "as_of": as_of, "limit": limit},
    ).fetchall()
    best: dict[str, list] = {}
    for r in rows:
        best.setdefault(r["threat_id"], []).append(r)
    chosen = list(best.items())[:limit] if limit is not None else list(best.items())
    return [
        {
            "id": tid,
            "score": -round(float(hits[0]["score"]), 4),  # as FTS5's rank: the lower, the better
            "matches": [
                {"in": h["kind"], "event": h["event_id"], "snippet": _snippet(conn, h["body"], q)} for h in hits
            ],
        }
        for tid, hits in chosen
    ]


def _snippet(conn, body: str, q: str) -> str:
    """The passage of `body` around the matched words, as FTS5's snippet() cuts it (about 12
    words, `…` where it was cut), the matched words between OPEN and CLOSE."""
    text = conn.raw_execute(
        "SELECT ts_headline('simple', %(body)s, CAST(%(q)s AS tsquery), %(opts)s)",
        {"body": body or "", "q": q, "opts": _HEADLINE},
    ).fetchone()[0]
    words = (body or "").split()
    shown = text.replace(OPEN, "").replace(CLOSE, "").split()
    if words and shown and shown != words:
        start = " ".join(words).find(" ".join(shown))
        if start > 0:
            text = "…" + text
        if start >= 0 and start + len(" ".join(shown)) < len(" ".join(words)):
            text += "…"
    return text


def count(conn, query: str, as_of: str) -> int:
    q = _tsquery(query)
    if q is None:
        return 0
    return conn.raw_execute("SELECT COUNT(DISTINCT s.threat_id) " + _VISIBLE, {"q": q, "as_of": as_of}).fetchone()[0]
