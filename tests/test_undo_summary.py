"""`undo` shows what it takes back before asking, as `history` shows a run: the first 20 changes
and a count of the others (an import of thousands of threats is one run)."""

import json


def test_undo_of_a_big_import_shows_its_first_changes_and_counts_the_rest(cli, tmp_path):
    path = tmp_path / "many.jsonl"
    threats = [
        {"type": "threat", "id": f"bulk-{n}", "issuer": "putin", "made_on": "2025-01-01", "statement": f"threat {n}"}
        for n in range(300)
    ]
    path.write_text("".join(json.dumps(t) + "\n" for t in threats))
    cli("import", str(path))
    undone = cli("undo", "--yes")
    shown = [line for line in undone.stderr.splitlines() if line.startswith("    + threat bulk-")]
    assert len(shown) == 20
    assert "    and 280 more changes (`redlines history --json` lists them all)" in undone.stderr
    assert "undone: #" in undone.stderr
    cli("show", "bulk-1", expect=1)  # taken back, all 300


def test_undo_of_a_small_run_shows_every_change(cli):
    cli("add", "actor", "al", "--name", "Al")
    undone = cli("undo", "--yes")
    assert "    + actor" in undone.stderr and "more change" not in undone.stderr
