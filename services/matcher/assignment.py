"""Event assignment (对接会): k experts per problem maximising total fit, by min-cost flow.

source -> problem (capacity k) -> expert (capacity 1 per pair, cost -fit) -> sink (capacity:
the expert's remaining capacity). networkx finds the largest number of assignments first,
then the cheapest, i.e. the fittest, among them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import networkx as nx

# Costs must be integers for the network simplex to be exact: fits are scaled to millionths.
_SCALE = 1_000_000
_SOURCE, _SINK = ("source",), ("sink",)

P = TypeVar("P", bound=Hashable)  # a problem's key
E = TypeVar("E", bound=Hashable)  # an expert's key


@dataclass(frozen=True)
class Assignment(Generic[P, E]):
    """Experts chosen per problem, with the fit of each pair and the total."""

    experts: dict[P, list[tuple[E, float]]]
    total: float
    unfilled: dict[P, int]


def assign(
    fits: Mapping[tuple[P, E], float],
    problems: list[P],
    experts: list[E],
    *,
    k: int,
    capacity: Mapping[E, int | None],
) -> Assignment[P, E]:
    """Give each problem up to k distinct experts, maximising the total fit.

    fits holds allowed (problem, expert) pairs only: conflicts and declined pairs are simply
    absent. capacity[expert] is how many problems the expert may still take (None: any).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    graph = nx.DiGraph()
    for problem in problems:
        graph.add_edge(_SOURCE, ("p", problem), capacity=k, weight=0)
    for expert in experts:
        cap = capacity.get(expert)
        room = len(problems) if cap is None else cap
        graph.add_edge(("e", expert), _SINK, capacity=room, weight=0)
    wanted_p, wanted_e = set(problems), set(experts)
    for (problem, expert), fit in fits.items():
        if problem in wanted_p and expert in wanted_e:
            graph.add_edge(("p", problem), ("e", expert), capacity=1, weight=-round(fit * _SCALE))
    if _SOURCE not in graph or _SINK not in graph:
        return Assignment({p: [] for p in problems}, 0.0, {p: k for p in problems})
    flow = nx.max_flow_min_cost(graph, _SOURCE, _SINK)
    chosen: dict[P, list[tuple[E, float]]] = {p: [] for p in problems}
    for problem in problems:
        for node, units in flow.get(("p", problem), {}).items():
            if units:
                expert = node[1]
                chosen[problem].append((expert, fits[(problem, expert)]))
        chosen[problem].sort(key=lambda pair: -pair[1])
    total = sum(fit for pairs in chosen.values() for _, fit in pairs)
    unfilled = {p: k - len(pairs) for p, pairs in chosen.items() if len(pairs) < k}
    return Assignment(chosen, total, unfilled)
