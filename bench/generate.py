"""Make a realistic synthetic data set as JSON lines that `redlines import` reads.

    python bench/generate.py 10000 > threats-10k.jsonl

1,000 actors (people, states, blocs; each person speaks for a state), skewed as real records
are: a few actors issue most threats (Zipf, s = 1.1). Each threat has on average two events in
a realistic mix: many are crossed, some get deadlines moved, a response most often not followed
through, a few complied or withdrawn, restatements and notes. Dates span 2000-2025 at day, month
and year precision. Deterministic for a given size and seed.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta

CATEGORIES = ["military", "nuclear", "economic", "diplomatic", "other"]
COMMON = [
    "sanctions",
    "strike",
    "missiles",
    "troops",
    "border",
    "tariffs",
    "talks",
    "ceasefire",
    "drills",
    "nuclear",
    "embargo",
    "airspace",
    "navy",
    "retaliation",
    "consequences",
    "blockade",
    "recognition",
    "referendum",
    "deadline",
    "weapons",
    "pipeline",
    "grain",
    "shipping",
    "cyber",
    "election",
    "annexation",
]
START, END = date(2000, 1, 1), date(2025, 6, 30)  # nothing is dated after END
DAYS = (date(2024, 12, 31) - START).days


def fuzzy(d: date, rng: random.Random) -> str:
    p = rng.random()
    return d.isoformat() if p < 0.85 else d.isoformat()[:7] if p < 0.97 else str(d.year)


# Text as news has it: a few common words, and a long tail of rarer ones (place names, people,
# weapons), so that a search for a rare word finds few threats.
RARE = [
    f"{a}{b}"
    for a in ("kar", "vel", "dor", "mis", "tal", "ran", "sel", "bor", "nik", "zan")
    for b in ("ovo", "ania", "esk", "grad", "ista", "mir", "opol", "ava", "enko", "ir")
] * 1
WORDS = COMMON + [f"{w}{i}" for i, w in enumerate(RARE * 20)]  # 2,000 rare words


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(COMMON) if rng.random() < 0.7 else rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def main(n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    out = sys.stdout
    write = lambda record: out.write(json.dumps(record, ensure_ascii=False) + "\n")  # noqa: E731
    write({"type": "meta", "schema_version": 1})
    states = [f"state-{i}" for i in range(200)]
    for s in states:
        write({"type": "actor", "slug": s, "name": s.replace("-", " ").title(), "kind": "state"})
    people = [f"leader-{i}" for i in range(790)]
    for i, p in enumerate(people):
        write(
            {
                "type": "actor",
                "slug": p,
                "name": p.replace("-", " ").title(),
                "kind": "person",
                "of": states[i % len(states)],
                "aliases": [f"L{i}"],
            }
        )
    for b in range(10):
        write({"type": "actor", "slug": f"bloc-{b}", "name": f"Bloc {b}", "kind": "bloc"})
    actors = states + people + [f"bloc-{b}" for b in range(10)]
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(actors))]
    order = actors[:]
    rng.shuffle(order)
    issuers = rng.choices(order, weights, k=n)
    for i in range(n):
        made = START + timedelta(days=rng.randrange(DAYS))
        deadline = made + timedelta(days=rng.randrange(5, 120)) if rng.random() < 0.3 else None
        events = []
        day = made
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 3, 4])):
            day = min(day + timedelta(days=rng.randrange(1, 60)), END)
            kind = rng.choices(
                ["crossed", "deadline", "response", "complied", "withdrawn", "restated", "note"],
                [30, 10, 25, 5, 3, 12, 15],
            )[0]
            events.append(
                {
                    "kind": kind,
                    "on": fuzzy(day, rng),
                    "what": sentence(rng, 8),
                    "outcome": rng.choices(["followed_through", "partial", "not_followed_through"], [3, 2, 5])[0]
                    if kind == "response"
                    else None,
                    "due": (day + timedelta(days=rng.randrange(5, 90))).isoformat() if kind == "deadline" else None,
                    "sources": [{"url": f"https://news.example/{i}/{len(events)}", "quote": sentence(rng, 6)}],
                }
            )
        write(
            {
                "type": "threat",
                "id": f"t{i:07d}",
                "issuer": issuers[i],
                "targets": rng.sample(actors, rng.choice([1, 1, 2])),
                "made_on": fuzzy(made, rng),
                "statement": sentence(rng, 12),
                "trigger": sentence(rng, 5),
                "consequence": sentence(rng, 4),
                "category": rng.choice(CATEGORIES),
                "deadline": deadline.isoformat() if deadline else None,
                "tags": rng.sample(COMMON, 2),
                "events": events,
                "sources": [{"url": f"https://news.example/{i}", "quote": sentence(rng, 6)}],
            }
        )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1)
