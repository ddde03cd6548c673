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
    assert cited == 17


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
