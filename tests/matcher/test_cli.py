"""`greenplat match`, `affinity`, `eval` and `assign`: the interchange contract's shapes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from greenplat.cli import app


@pytest.fixture
def run(match_settings, world, matcher):
    env = {"GREENPLAT_DATABASE_URL": match_settings.database_url, "GREENPLAT_MODELS": "en:minilm"}

    def invoke(*args: str):
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result

    return invoke


def write_lines(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_match_writes_one_line_per_query_best_first(run, tmp_path):
    queries = write_lines(
        tmp_path / "q.jsonl",
        [
            {"query_id": "a", "problem_id": "P-water"},
            {"query_id": "b", "query": "lithium-ion battery thermal runaway"},
            {"query_id": "c", "problem_id": "P-missing"},
        ],
    )
    out = tmp_path / "out.jsonl"
    run("match", "--to", "experts", "--queries", str(queries), "--k", "2", "--out", str(out))
    lines = read_lines(out)
    assert [line["query_id"] for line in lines] == ["a", "b", "c"]
    for line in lines[:2]:
        assert 1 <= len(line["matches"]) <= 2
        scores = [m["score"] for m in line["matches"]]
        assert scores == sorted(scores, reverse=True)
        for match in line["matches"]:
            assert set(match) == {"id", "score", "level", "why"}
            assert isinstance(match["id"], str) and isinstance(match["score"], float)
            assert match["why"] and all(isinstance(w, str) for w in match["why"])
    assert lines[0]["matches"][0]["id"] == "E-water"
    assert lines[1]["matches"][0]["id"] == "E-battery"
    assert lines[2]["matches"] == [] and "not found" in lines[2]["error"]


def test_match_embeds_queries_a_window_ahead_and_answers_each_in_order(run, tmp_path, monkeypatch):
    from greenplat.matcher import cli

    texts = ["water treatment membrane", "lithium-ion battery thermal runaway", "desalination"]
    rows = [{"query_id": str(n), "query": text} for n, text in enumerate(texts * 3)]
    queries = write_lines(tmp_path / "q.jsonl", rows)
    whole, windowed = tmp_path / "whole.jsonl", tmp_path / "windowed.jsonl"
    run("match", "--to", "experts", "--queries", str(queries), "--out", str(whole))
    monkeypatch.setattr(cli, "PRIME_BATCH", 2)  # five windows of two, each started ahead
    run("match", "--to", "experts", "--queries", str(queries), "--out", str(windowed))
    assert read_lines(windowed) == read_lines(whole)
    assert [line["query_id"] for line in read_lines(windowed)] == [str(n) for n in range(9)]
    assert read_lines(windowed)[1]["matches"][0]["id"] == "E-battery"


def test_match_from_expert_and_achievement_sources(run, tmp_path):
    queries = write_lines(
        tmp_path / "q.jsonl",
        [
            {"query_id": "inbox", "expert_id": "E-water"},
            {"query_id": "a", "achievement_id": "A-water0"},
        ],
    )
    out = tmp_path / "out.jsonl"
    run("match", "--to", "problems", "--queries", str(queries), "--k", "3", "--out", str(out))
    inbox, applied = read_lines(out)
    assert inbox["matches"][0]["id"] == "P-water"
    assert applied["matches"][0]["id"] == "P-water"
    # The commands act as a platform admin, who sees every record whatever its status.
    queries = write_lines(tmp_path / "q2.jsonl", [{"query_id": "d", "problem_id": "P-draft"}])
    run("match", "--to", "experts", "--queries", str(queries), "--k", "3", "--out", str(out))
    assert read_lines(out)[0]["matches"][0]["id"] == "E-battery"


def test_affinity_adds_comparable_scores(run, tmp_path):
    pairs = [
        {"expert_id": "E-battery", "problem_id": "P-battery", "note": "kept"},
        {"expert_id": "E-battery", "problem_id": "P-water"},
        {"expert_id": "E-water", "problem_id": "P-water"},
        {"expert_id": "E-nobody", "problem_id": "P-water"},
    ]
    out = tmp_path / "scores.jsonl"
    run("affinity", "--pairs", str(write_lines(tmp_path / "pairs.jsonl", pairs)), "--out", str(out))
    lines = read_lines(out)
    assert [(x["expert_id"], x["problem_id"]) for x in lines] == [
        (p["expert_id"], p["problem_id"]) for p in pairs
    ]
    assert lines[0]["note"] == "kept"
    assert lines[0]["score"] > lines[1]["score"]  # the expert's own inbox order
    assert lines[2]["score"] > lines[1]["score"]
    assert lines[3]["score"] is None


def test_eval_prints_ranking_measures_and_expertise_loss(run, tmp_path):
    qrels = write_lines(
        tmp_path / "qrels.jsonl",
        [{"query_id": "1", "query": "reverse osmosis membrane fouling", "relevant": ["A-water0"]}],
    )
    result = run("eval", "--qrels", str(qrels), "--to", "achievements", "--mode", "all")
    for measure in ("MRR@10", "Recall@1", "Recall@10", "nDCG@10", "lexical", "vector", "hybrid"):
        assert measure in result.output
    assert "1.0000" in result.output
    ratings = write_lines(
        tmp_path / "ratings.jsonl",
        [
            {"expert_id": "E-water", "problem_id": "P-water", "expertise": 5},
            {"expert_id": "E-water", "problem_id": "P-battery", "expertise": 1},
        ],
    )
    result = run("eval", "--ratings", str(ratings))
    assert "expertise loss 0.0000" in result.output


def test_assign_writes_experts_per_problem(run, tmp_path):
    problems = tmp_path / "problems.txt"
    problems.write_text("P-battery\nP-water\n", encoding="utf-8")
    out = tmp_path / "event.jsonl"
    run("assign", "--problems", str(problems), "--k", "2", "--out", str(out))
    lines = read_lines(out)
    assert [line["problem_id"] for line in lines] == ["P-battery", "P-water"]
    assert len(lines[0]["experts"]) == 2
    assert "E-insider" not in [e["id"] for e in lines[0]["experts"]]
    # Only the membrane expert fits the water problem: the battery experts stay below the
    # relevance bar, so the second slot is left unfilled rather than given to a poor fit.
    assert [e["id"] for e in lines[1]["experts"]] == ["E-water"]
    assert lines[1]["unfilled"] == 1


def test_bad_queries_file_fails_with_line_number(match_settings, world, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query_id": "1", "query": "x"}\nnot json\n', encoding="utf-8")
    env = {"GREENPLAT_DATABASE_URL": match_settings.database_url, "GREENPLAT_MODELS": "en:minilm"}
    args = ["match", "--to", "experts", "--queries", str(bad), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output


@pytest.mark.parametrize("line", ['{"problem": "P-water"}', "{not json"])
def test_bad_assign_ids_file_fails_with_line_number(match_settings, world, tmp_path, line):
    problems = tmp_path / "ids.jsonl"
    problems.write_text(f'{{"problem_id": "P-water"}}\n{line}\n', encoding="utf-8")
    env = {"GREENPLAT_DATABASE_URL": match_settings.database_url, "GREENPLAT_MODELS": "en:minilm"}
    args = ["assign", "--problems", str(problems), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2
    assert "ids.jsonl:2" in result.output
