"""Matcher.warm: what a served process does before its first request."""

from __future__ import annotations

import gc

from greenplat.matcher.service import WARM_TEXTS, Matcher


def test_warm_embeds_both_languages_and_sets_the_loaded_heap_aside(match_indexer, match_db):
    loaded = [object()]  # made before the warm-up, as the models and imports are
    matcher = Matcher(match_indexer)
    try:
        with match_db.session() as conn:
            settled = matcher.warm(conn)
        # Full collections no longer scan what was alive at the warm-up...
        assert settled > 10_000 and gc.get_freeze_count() > 10_000
        assert not any(o is loaded for o in gc.get_objects())
        # ...and a first search in either language finds its query models loaded.
        for text in WARM_TEXTS:
            for model in match_indexer.query_models(text):
                assert match_indexer.queries.cache.get((model, text)) is not None, (model, text)
    finally:
        gc.unfreeze()
    assert any(o is loaded for o in gc.get_objects())
