"""What reaches a terminal: invisible characters that reorder or hide text are shown as escapes,
while JSON keeps the data exactly as stored."""

import json
import sys
import unicodedata

import pytest

from redlines.output.formats import safe_text

# The characters issue 10 names, one of each kind: bidi embeddings, overrides, isolates and marks;
# zero-width spaces and joiners; the byte-order mark.
NAMED = [
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
]


def invisible() -> list[str]:
    """Every format character (Cf) and line or paragraph separator this Python knows of."""
    return [c for c in map(chr, range(sys.maxunicode + 1)) if unicodedata.category(c) in ("Cf", "Zl", "Zp")]


@pytest.mark.parametrize("char", NAMED, ids=lambda c: f"U+{ord(c):04X}")
def test_each_named_character_is_shown_as_its_escape(char):
    shown = safe_text(f"red{char}line")
    assert shown == f"red\\u{ord(char):04x}line"


def test_every_format_character_is_escaped_and_nothing_else_changes():
    chars = invisible()
    assert len(chars) > 150  # tag characters, bidi controls, zero-width characters, ...
    shown = safe_text("".join(chars))
    assert not any(c in shown for c in chars)
    assert shown.count("\\u") + shown.count("\\U") == len(chars)
    # Ordinary text, accents, scripts written right to left and emoji pass through unchanged.
    plain = "Путин said «нет» — 普京 — بوتين — ok 👍 café\ttab\nline"
    assert safe_text(plain) == plain


def test_control_characters_still_escaped_beside_bidi():
    assert safe_text("\x1b[31mred\u202e") == "\\x1b[31mred\\u202e"
    assert safe_text(["a\u200bb", "c"]) == "a\\u200bb, c"


HIDDEN = "Putin \u202ewarned\u202c the \u2066West\u2069 of\u200b strikes\ufeff"


def test_a_statement_with_bidi_controls_reaches_no_terminal_raw(cli):
    cli("add", "actor", "ev\u200bil", "--name", "Ev\u200dil Twin", expect=2)  # a slug is refused anyway
    cli("add", "actor", "evil", "--name", "Ev\u200dil \u202eTwin", "--alias", "E\u2060T")
    cli("add", "threat", "--by", "evil", "--on", "2025-08-01", "--said", HIDDEN, "--id", "hidden-one")
    cli("add", "event", "hidden-one", "--kind", "note", "--on", "2025-08-02", "--what", "not\u2067e\u2069d")
    outputs = {
        args: cli(*args).stdout
        for args in [
            ("list",),
            ("show", "hidden-one"),
            ("actors",),
            ("timeline",),
            ("history",),
            ("search", "warned"),
            ("due", "--within", "1y"),
            ("list", "--format", "md"),
            ("report", "--explain"),
        ]
    }
    for args, out in outputs.items():
        raw = [f"U+{ord(c):04X}" for c in set(out) if unicodedata.category(c) in ("Cf", "Zl", "Zp")]
        assert not raw, f"redlines {' '.join(args)} sent {raw} to the terminal"
    assert "\\u202ewarned\\u202c" in outputs[("list",)]
    assert "Ev\\u200dil \\u202eTwin" in outputs[("actors",)]
    assert "E\\u2060T" in outputs[("actors",)]
    assert "not\\u2067e\\u2069d" in outputs[("show", "hidden-one")]
    # JSON keeps the data as stored.
    [threat] = cli.json("list", "--actor", "evil", "--json")
    assert threat["statement"] == HIDDEN
    assert json.loads(cli("show", "hidden-one", "--format", "json").stdout)["events"][0]["what"] == "not\u2067e\u2069d"
    jsonl = cli("list", "--actor", "evil", "--format", "jsonl").stdout
    assert json.loads(jsonl)["statement"] == HIDDEN
