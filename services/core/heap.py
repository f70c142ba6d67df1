"""The garbage collector and a long-running process's heap."""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect once, then leave every object alive now out of later collections.

    What a served process loads once and keeps (its models, the word segmenter's dictionary,
    imported modules: about 250,000 objects) was re-scanned by every full collection, which
    then paused the request it fell into by 100-140 ms (15 of 250 searches in one profiling run
    at 100k experts; docs/evaluation.md, "Seventh round"). Objects made later are collected as
    before.
    Returns the number of objects set aside.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
