"""Models by language, the embedding cache, encoding."""

from __future__ import annotations

import numpy as np

from greenplat.indexer.embedding import ModelSet, parse_models, text_sha256


def test_models_setting_maps_languages_and_resolves_builtin_names(settings, tmp_path):
    specs = parse_models("zh:e5-small, en:minilm", tmp_path)
    assert [(s.key, s.languages) for s in specs] == [("e5-small", ("zh",)), ("minilm", ("en",))]
    assert specs[0].source == str(tmp_path / "e5-small")
    assert specs[1].source.endswith("all-MiniLM-L6-v2") or "minilm" in specs[1].source.lower()
    bare = parse_models("/srv/models/custom", tmp_path)
    assert [(s.key, s.languages, s.source) for s in bare] == [
        ("/srv/models/custom", ("*",), "/srv/models/custom")
    ]


def test_primary_model_embeds_everything_and_minilm_adds_english(settings):
    models = ModelSet(settings.model_copy(update={"models": "zh:e5-small,en:minilm"}))
    assert models.models_for("高温合金蠕变") == ["e5-small"]
    assert models.models_for("nickel superalloy creep at high temperature") == [
        "e5-small",
        "minilm",
    ]
    assert models.models_for("12345") == ["e5-small"]


def test_passages_come_from_the_cache_once_embedded(indexer, iconn):
    text = "Thermal storage in molten salt."
    first = indexer.encode_passages([text], conn=iconn, model="minilm")
    assert np.isclose(np.linalg.norm(first[0]), 1.0, atol=1e-4)
    # Plant a different vector under the text's key: the cache, not the model, answers.
    planted = np.zeros(first.shape[1], dtype=np.float32)
    planted[0] = 1.0
    with indexer.db.session() as conn:
        conn.execute(
            "UPDATE embedding_cache SET embedding = %s WHERE model = 'minilm' AND text_sha256 = %s",
            (planted, text_sha256(text)),
        )
    again = indexer.encode_passages([text, text], conn=iconn, model="minilm")
    assert np.array_equal(again, np.stack([planted, planted]))
    # Queries bypass the cache: the model's vector (from its int8 graph: close to the
    # passage's, MiniLM having no prompts), not the planted one.
    query = indexer.query_vector(text, model="minilm")
    assert float(query @ first[0]) > 0.97 and float(query @ planted) < 0.5
    with indexer.db.session() as conn:
        conn.execute("DELETE FROM embedding_cache WHERE text_sha256 = %s", (text_sha256(text),))


def test_encoding_batches_keep_input_order(indexer):
    texts = ["short", "a much longer sentence about geothermal heat pumps " * 5, "mid length"]
    batch = indexer.model_set.raw_encode(texts, model="minilm", kind="query")
    single = np.stack([indexer.query_vector(t, model="minilm") for t in texts])
    assert np.allclose(batch, single, atol=1e-4)
