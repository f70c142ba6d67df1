"""Lexical similarities of problems to papers (TPMS-like): TF-IDF cosine and BM25.

Inverse document frequencies come from the library of papers, as an index would have them.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

BM25_K1, BM25_B = 1.2, 0.75


def lexical_similarities(corpus, problems: list[str], papers: list[str]):
    """(tfidf, bm25) matrices of shape problems x papers."""
    paper_texts = [corpus.paper_text(p) for p in papers]
    problem_texts = [corpus.problem_text(p) for p in problems]
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1)
    paper_m = tfidf.fit_transform(paper_texts)
    cos = (tfidf.transform(problem_texts) @ paper_m.T).toarray()
    return cos, _bm25(paper_texts, problem_texts)


def term_matrices(corpus, problems: list[str], papers: list[str], longest: int = 1):
    """(papers x terms holding each term, problems x terms weighted by library IDF), for the
    expert-level coverage of a problem's terms by all of an expert's papers together; terms
    are runs of up to `longest` content words (2: key phrases such as "graph neural")."""
    counts = CountVectorizer(stop_words="english", binary=True, ngram_range=(1, longest))
    held = counts.fit_transform([corpus.paper_text(p) for p in papers]).toarray().astype(bool)
    df = held.sum(axis=0)
    idf = np.log((1 + len(papers)) / (1 + df)) + 1
    asked = counts.transform([corpus.problem_text(p) for p in problems]).toarray() > 0
    return held, asked * idf


def _bm25(paper_texts: list[str], problem_texts: list[str]) -> np.ndarray:
    counts = CountVectorizer(stop_words="english")
    tf = counts.fit_transform(paper_texts).toarray().astype(float)
    df = (tf > 0).sum(axis=0)
    n = tf.shape[0]
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    length = tf.sum(axis=1, keepdims=True)
    norm = tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length / length.mean()))
    query = (counts.transform(problem_texts).toarray() > 0).astype(float)
    return (query * idf) @ norm.T
