"""bench/ as a package: every command answers --help, and the metrics its figures rest on are right."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from bench.common.metrics import (
    best_thresholds,
    calibration_bins,
    contains_answer,
    exact_match,
    f1_score,
    normalize_answer,
    percentile,
)

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(path.relative_to(REPO).with_suffix("").parts)
    for path in (REPO / "bench").rglob("*.py")
    if path.name != "__init__.py" and "out" not in path.relative_to(REPO / "bench").parts
)
COMMANDS = [m for m in MODULES if 'if __name__ == "__main__":' in (REPO / (m.replace(".", "/") + ".py")).read_text()]


def test_every_command_is_listed_in_the_bench_readme():
    readme = (REPO / "bench" / "README.md").read_text(encoding="utf-8")
    assert [m for m in MODULES if f"python -m {m}" not in readme and f"`{m}`" not in readme] == []


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy, for a module imported before
@pytest.mark.parametrize("module", COMMANDS)
def test_every_bench_command_answers_help(module: str, monkeypatch, capsys):
    # In this process (runpy), not one interpreter per module: the imports are shared and --help does no work.
    monkeypatch.setattr(sys, "argv", [module, "--help"])
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=False)
    except SystemExit as done:  # argparse's --help exits 0
        assert done.code in (0, None), f"python -m {module} --help exited {done.code}"
    assert capsys.readouterr().out.strip(), f"python -m {module} --help printed nothing"


def test_squad_answer_matching():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("“Squid Game”") == "squid game"
    assert exact_match("the Denver Broncos", ["Denver Broncos"]) == 1.0
    assert exact_match("Broncos", ["Denver Broncos"]) == 0.0
    assert f1_score("Broncos", ["Denver Broncos"]) == pytest.approx(2 / 3)
    assert f1_score("Carolina Panthers", ["Denver Broncos", "Panthers"]) == pytest.approx(2 / 3)
    assert f1_score("nothing here", ["Denver Broncos"]) == 0.0


@pytest.mark.parametrize("sentence,answer,holds", [
    ("Zelensky claimed 155 Chinese nationals.", "155", True),
    ("Zelensky claimed 1550 Chinese nationals.", "155", False),
    ("It costs 200,000 rubles.", "200,000", True),
    ("anything", "", False),
    ("One share of Google’s parent company", "Google", True),
    ("A 17-year-old has become", "17", True),
    ("Chinese-made motorcycles", "Chinese-made", True),
    ("European regulators", "Europe", False),
])
def test_a_sentence_contains_an_answer_only_as_whole_words(sentence: str, answer: str, holds: bool):
    assert contains_answer(sentence, [answer]) is holds


def test_percentiles_interpolate_between_ranks():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48.0)


def test_calibration_bins_count_and_average_each_bin():
    bins = calibration_bins([(0.1, True), (0.15, False), (1.0, True)])
    assert bins[0][2:] == (2, 0.5) and bins[-1][2:] == (1, 1.0)


def test_the_best_threshold_keeps_the_right_answers_and_drops_the_wrong_ones():
    best = best_thresholds([(0.9, "right"), (0.7, "right"), (0.5, "wrong"), (0.4, "unanswerable")])
    assert best["by_utility"]["threshold"] == 0.7 and best["by_utility"]["utility"] == 2
