"""Concentration metrics: hand-computed cases and properties over seeded random weights."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from analysis import concentration as cm


def test_one_entity_holds_everything() -> None:
    m = cm.metrics({"a": 5})
    assert m is not None
    assert m.nakamoto == {"1/3": 1, "1/2": 1, "2/3": 1}
    assert m.hhi == 10_000 and m.band == "highly concentrated"
    assert (m.gini, m.top1, m.top3, m.count, m.participants, m.total) == (0.0, 1.0, 1.0, 1, 1, 5.0)


def test_ties_never_count_as_more_than_the_threshold() -> None:
    m = cm.metrics({"a": 1, "b": 1, "c": 1})
    assert m is not None
    assert m.nakamoto == {"1/3": 2, "1/2": 2, "2/3": 3}  # one third is not MORE than a third
    assert m.hhi == pytest.approx(10_000 / 3) and m.band == "highly concentrated"
    assert m.gini == 0.0 and m.top1 == pytest.approx(1 / 3) and m.top3 == 1.0
    four = cm.metrics({"a": 1, "b": 1, "c": 1, "d": 1})
    assert four is not None and four.nakamoto == {"1/3": 2, "1/2": 3, "2/3": 3} and four.hhi == 2500
    assert cm.nakamoto([1, 1], Fraction(1, 2)) == 2  # a 50 % holder does not control a 1/2 vote


def test_validator_powers_of_the_devnet() -> None:
    powers = {"v0": 400, "v1": 250, "v2": 150, "v3": 320, "v4": 80, "v5": 60}  # total 1260
    m = cm.metrics(powers)
    assert m is not None
    assert m.nakamoto == {"1/3": 2, "1/2": 2, "2/3": 3}  # 400+320 = 720 > 630; +250 = 970 > 840
    assert m.hhi == pytest.approx(10_000 * 357_400 / 1_587_600)  # sum of squares / total^2
    assert m.band == "highly concentrated"
    assert m.top1 == pytest.approx(400 / 1260) and m.top3 == pytest.approx(970 / 1260)


def test_many_tiny_entities() -> None:
    m = cm.metrics({f"e{i}": 1 for i in range(1000)})
    assert m is not None
    assert m.nakamoto == {"1/3": 334, "1/2": 501, "2/3": 667}
    assert m.hhi == pytest.approx(10.0) and m.band == "unconcentrated"
    assert m.gini == pytest.approx(0.0) and m.top1 == pytest.approx(0.001) and m.top3 == pytest.approx(0.003)


def test_gini_and_lorenz_by_hand() -> None:
    assert cm.gini([0, 0, 0, 1]) == pytest.approx(0.75)  # (n - 1) / n: one holds all
    assert cm.gini([1, 2, 3]) == pytest.approx(4 / 18)
    assert cm.lorenz([1, 3]) == [(0.0, 0.0), (0.5, 0.25), (1.0, 1.0)]


def test_zero_total_is_no_data() -> None:
    assert cm.metrics({}) is None and cm.metrics({"a": 0, "b": 0}) is None
    assert cm.shares({"a": 0}) is None and cm.hhi([]) is None and cm.gini([0]) is None
    assert cm.lorenz([0, 0]) == [] and cm.nakamoto([0], Fraction(1, 3)) is None
    with pytest.raises(ValueError, match="negative"):
        cm.metrics({"a": -1})


def test_bands_follow_the_guidelines_and_config() -> None:
    assert cm.band(1000) == "unconcentrated" and cm.band(1000.5) == "moderately concentrated"
    assert cm.band(1800) == "moderately concentrated" and cm.band(1800.5) == "highly concentrated"
    assert cm.band(1500, (500, 1200)) == "highly concentrated"


def test_entities_group_identifiers_and_label_the_unmapped() -> None:
    em = cm.EntityMap.of([("0xAbCdEf0000000000000000000000000000000001", "Acme", "https://acme.example/ops"),
                          ("ogvaloper1abc", "Acme", "statement"), ("ogvaloper1def", "Beta", "")])
    assert em.resolve("0xabcdef0000000000000000000000000000000001") == ("Acme", "https://acme.example/ops", True)
    assert em.resolve("ogvaloper1zzz") == ("ogvaloper1zzz", cm.UNMAPPED, False)
    weights = {"0xABCDEF0000000000000000000000000000000001": 3, "ogvaloper1abc": 3, "ogvaloper1def": 3,
               "ogvaloper1zzz": 1}
    grouped = cm.group(weights, em)
    assert grouped == {"Acme": 6.0, "Beta": 3.0, "ogvaloper1zzz": 1.0}
    per_id, per_entity = cm.metrics(weights), cm.metrics(grouped)
    assert per_id is not None and per_entity is not None
    assert per_id.nakamoto["1/2"] == 2 and per_entity.nakamoto["1/2"] == 1  # Acme alone holds 6 of 10 > 5
    assert per_entity.hhi > per_id.hhi


def _random_weights(rng: random.Random) -> dict[str, float | int]:
    n = rng.randint(1, 40)
    if rng.random() < 0.5:
        return {f"p{i}": rng.choice([0, 1, 1, 2, 3, 10, 1000, rng.randint(0, 10**24)]) for i in range(n)}
    return {f"p{i}": rng.choice([0.0, rng.random(), rng.random() * 1e-9, rng.random() * 1e9]) for i in range(n)}


def test_properties_over_seeded_random_weights() -> None:
    rng = random.Random(20261125)
    checked = 0
    for _ in range(400):
        w = _random_weights(rng)
        s, m = cm.shares(w), cm.metrics(w)
        if sum(Fraction(v) for v in w.values()) == 0:
            assert s is None and m is None
            continue
        assert s is not None and m is not None
        assert sum(s.values()) == pytest.approx(1.0)
        assert 10_000 / m.count - 1e-6 <= m.hhi <= 10_000 + 1e-6  # equal shares .. one holder
        naka = [m.nakamoto[k] for k in ("1/3", "1/2", "2/3")]
        assert naka == sorted(naka) and 1 <= naka[0] and naka[-1] <= m.count
        assert 0.0 <= m.gini <= (m.participants - 1) / m.participants + 1e-9
        assert m.top1 <= m.top3 <= 1.0 + 1e-12
        checked += 1
    assert checked > 300


def test_replay_of_change_rows() -> None:
    rows = [(1, "a", "x", 1), (1, "b", "y", 2), (3, "a", "y", 1), (4, "b", "y", None)]
    assert cm.replay(rows) == [(1, {"x": 1.0, "y": 2.0}), (3, {"y": 3.0}), (4, {"y": 1.0})]
    assert cm.replay([]) == []


def test_replay_sampled_keeps_first_last_and_exact_states() -> None:
    rows = [(b, f"k{b % 7}", f"id{b % 3}", float(b)) for b in range(1, 1001)]
    full = dict(cm.replay(rows))
    sampled = cm.replay(rows, points=50)
    assert len(sampled) == 50 and sampled[0][0] == 1 and sampled[-1][0] == 1000
    assert all(full[b] == w for b, w in sampled)  # a sampled point is the exact state at its block
    assert cm.replay(rows, points=5000) == list(full.items())
