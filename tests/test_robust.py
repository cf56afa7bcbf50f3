"""The robustness study and its cheap guard in `make test`.

The guard executes every trained chapter once more, on another floating-point path
(``MKL_CBWR=COMPATIBLE``, the same bits on any x86 CPU) with another seed, from an empty
training cache: a claim that holds only for the default seed on this machine fails here.
``make robust`` runs the full grid (bench/robustness.md).
"""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from vaebook import claims, robust

GUARD_SEED, GUARD_PATH = 1, "compatible"


def fake_run(seed, path, margins: dict, errors=None) -> robust.Run:
    records = [
        {
            "claim": name,
            "chapter": name.split("/")[0],
            "holds": margin >= 0,
            "margin": margin,
            "unit": "nats",
            "detail": "",
        }
        for name, margin in margins.items()
    ]
    chapters = {
        name: {"seconds": 10.0, "slowest_cell": 4.0, "error": (errors or {}).get(name)}
        for name in robust.TRAINED_CHAPTERS
    }
    return robust.Run(seed, path, records, chapters)


def every_claim(margin=1.0) -> dict:
    return {
        name: margin
        for name, claim in claims.CLAIMS.items()
        if claim.chapter in robust.TRAINED_CHAPTERS
    }


def test_the_table_reports_the_worst_margin_and_its_run():
    margins = every_claim()
    worse = dict(margins, **{"linear-vae/column-norms-match-ppca": 0.25})
    text, ok = robust.table([fake_run(0, "default", margins), fake_run(3, "pinned", worse)])
    assert ok
    row = next(line for line in text.splitlines() if "`column-norms-match-ppca`" in line)
    assert row.split("|")[3:7] == [" 2 ", " 0 ", " 0.25 nats ", " seed 3, pinned "]
    assert "Slowest cell: 4 s" in text


def test_the_study_fails_on_a_failed_claim_a_missing_claim_or_a_chapter_error():
    margins = every_claim()
    failed = dict(margins, **{"learned-sigma/learned-sigma-is-the-rmse": -0.01})
    _, ok = robust.table([fake_run(0, "default", margins), fake_run(1, "default", failed)])
    assert not ok
    missing = dict(margins)
    del missing["other-likelihoods/density-ranking"]
    text, ok = robust.table([fake_run(0, "default", missing)])
    assert not ok and re.search(r"`density-ranking` \| other-likelihoods \| 0 \|", text)
    crashed = fake_run(0, "default", margins, errors={"linear-vae": "boom\nValueError: x"})
    text, ok = robust.table([crashed])
    assert not ok and "seed 0, default, linear-vae: ValueError: x" in text


def test_an_update_replaces_one_chapters_records_and_keeps_the_rest():
    margins = every_claim()
    old = [fake_run(0, "default", margins), fake_run(1, "compatible", margins)]
    chapter = "other-likelihoods"
    fresh = {name: 0.5 for name in margins if name.startswith(chapter + "/")}
    new = [
        fake_run(1, "compatible", dict(fresh, **{f"{chapter}/a-new-claim": 2.0})),
        fake_run(2, "default", fresh),
    ]
    new[0].chapters[chapter]["seconds"] = 99.0
    merged = robust.merge(old, new, [chapter])
    assert [(item.seed, item.path) for item in merged] == [
        (0, "default"),
        (1, "compatible"),
        (2, "default"),
    ]
    assert merged[0] is old[0]
    updated = {record["claim"]: record["margin"] for record in merged[1].records}
    assert updated[f"{chapter}/a-new-claim"] == 2.0
    assert all(updated[name] == (0.5 if name in fresh else 1.0) for name in margins)
    assert len(merged[1].records) == len(margins) + 1
    assert merged[1].chapters[chapter]["seconds"] == 99.0
    assert merged[1].chapters["linear-vae"] == old[1].chapters["linear-vae"]


def test_unknown_paths_and_chapters_are_refused():
    with pytest.raises(ValueError, match="unknown floating-point path 'fast'"):
        robust.run(0, "fast", ["linear-vae"])
    with pytest.raises(ValueError, match="not a trained chapter"):
        robust.run(0, "default", ["intro"])


def test_make_robust_runs_the_study_and_the_readme_quotes_its_table():
    makefile = (REPO / "Makefile").read_text()
    assert re.search(
        r"^robust:.*\n\t.*-m vaebook\.robust .*--output bench/robustness\.md", makefile, re.M
    )
    table = (REPO / "bench" / "robustness.md").read_text()
    assert "every claim held in every run: yes" in table
    for name, claim in claims.CLAIMS.items():
        assert f"`{name.split('/', 1)[1]}` | {claim.chapter} |" in table, (
            f"bench/robustness.md is older than the claim {name}: run make robust"
        )
    assert "bench/robustness.md" in (REPO / "README.md").read_text()


@pytest.mark.slow
def test_trained_chapters_hold_their_claims_on_another_path_and_seed():
    """The guard: every trained chapter, seed 1, MKL_CBWR=COMPATIBLE, empty cache."""
    run = robust.run(GUARD_SEED, GUARD_PATH)
    assert not run.errors, "\n\n".join(f"{name}:\n{error}" for name, error in run.errors.items())
    text, ok = robust.table([run])
    assert ok, text
    checked = {record["claim"] for record in run.records}
    expected = {
        name for name, claim in claims.CLAIMS.items() if claim.chapter in robust.TRAINED_CHAPTERS
    }
    assert checked == expected
