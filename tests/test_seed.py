"""The bundled data set: the seed article's record, every claim cited with a verbatim quote."""

import tomllib

from conftest import ARTICLE, ARTICLE_URL

from redlines.domain.document import check_document
from redlines.resources import data_dir


def seed() -> dict:
    with open(data_dir() / "seed.toml", "rb") as f:
        return check_document(tomllib.load(f))


def test_every_threat_and_event_cites_the_article_with_a_verbatim_quote():
    article = ARTICLE.read_text(encoding="utf-8")
    doc = seed()
    cited = 0
    for t in doc["threats"]:
        for record in [t, *t.get("events", [])]:
            assert record["sources"], f"{t['id']}: {record.get('kind', 'threat')} has no source"
            for s in record["sources"]:
                assert s["url"] == ARTICLE_URL
                assert s["quote"] and s["quote"] in article, f"{t['id']}: not in the article: {s['quote']!r}"
                cited += 1
    assert cited == 21


def test_the_article_actors_are_there_with_the_contract_slugs():
    actors = {a["slug"]: a for a in seed()["actors"]}
    assert set(actors) == {
        "putin",
        "trump",
        "zelensky",
        "vance",
        "russia",
        "united-states",
        "united-kingdom",
        "ukraine",
        "north-korea",
        "nato",
    }
    assert "Vladmir Putin" in actors["putin"]["aliases"]  # the article's own spelling
    assert actors["putin"]["of"] == "russia" and actors["trump"]["of"] == "united-states"
    assert actors["nato"]["kind"] == "bloc" and "the West" in actors["nato"]["aliases"]


def test_the_article_threats_are_there():
    threats = {t["id"]: t for t in seed()["threats"]}
    assert set(threats) == {
        "putin-long-range-weapons",
        "putin-all-means-necessary",
        "putin-nuclear-doctrine",
        "putin-f16",
        "trump-sanctions-january",
        "trump-sanctions-march",
        "trump-sanctions-july",
    }
    oreshnik = threats["putin-long-range-weapons"]["events"][-1]
    assert (oreshnik["kind"], oreshnik["outcome"]) == ("response", "partial")
    assert "Oreshnik" in oreshnik["what"]
    assert [e["kind"] for e in threats["putin-all-means-necessary"]["events"]] == ["restated", "crossed"]
    # dates given by the article only as a year or month keep that precision
    assert threats["putin-all-means-necessary"]["made_on"] == "2022"
    assert [threats[f"trump-sanctions-{m}"]["deadline"] for m in ("january", "march")] == ["2025-01", "2025-03"]
    # the 50-day deadline cut to 10-12 days: 8 August
    july = threats["trump-sanctions-july"]
    assert july["deadline"] == "2025-09-02" and july["events"][0]["due"] == "2025-08-08"


def test_the_corrected_record_says_what_was_threatened_and_against_whom():
    threats = {t["id"]: t for t in seed()["threats"]}
    # what Putin warned against on 2024-09-12, and what happened on 2024-11-19, was letting
    # Ukraine fire the long-range weapons into Russia: sending them had happened in 2023
    long_range = threats["putin-long-range-weapons"]
    assert "inside Russia" in long_range["trigger"] and "fire" in long_range["trigger"]
    assert long_range["events"][0]["on"] == "2024-11-19" and "inside Russia" in long_range["events"][0]["what"]
    # the jets came from Denmark, the Netherlands, Norway and Belgium; the warning was about
    # airfields in third countries
    f16 = threats["putin-f16"]
    assert f16["targets"] == ["nato", "ukraine"]
    assert "third countries" in f16["statement"] and "third countries" in f16["consequence"]
    assert all(c in f16["events"][0]["what"] for c in ("Denmark", "the Netherlands", "Norway", "Belgium"))


def test_the_article_s_two_missing_statements_are_notes_quoted_verbatim():
    article = ARTICLE.read_text(encoding="utf-8")
    threats = {t["id"]: t for t in seed()["threats"]}

    def notes(tid):
        return [(e["on"], e["sources"][0]["quote"]) for e in threats[tid]["events"] if e["kind"] == "note"]

    not_crossed = ("2025-08-12", "Putin has not crossed Trump’s red lines either")
    vance = ("2025-08-10", "Vice President JD Vance announced that the US was done with funding Ukraine")
    assert notes("trump-sanctions-january") == notes("trump-sanctions-march") == [not_crossed]
    assert notes("trump-sanctions-july") == [vance, not_crossed]
    assert all(q in article for _, q in (not_crossed, vance))
    assert not any(notes(t) for t in threats if t.startswith("putin-"))
