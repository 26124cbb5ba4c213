"""Pareto front of (accuracy, energy) points: highest accuracy for the lowest energy."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points (accuracy, energy) that no other point dominates, by rising energy.

    A point is dominated when another has accuracy >= and energy <= with at least one strict;
    identical points therefore all stay on the front.
    """
    front = []
    for i, (acc, energy) in enumerate(points):
        dominated = any(
            other_acc >= acc and other_energy <= energy
            and (other_acc > acc or other_energy < energy)
            for other_acc, other_energy in points
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (points[i][1], -points[i][0], i))
