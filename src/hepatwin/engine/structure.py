"""Structure of a model's Jacobian, read from the spec's expressions (no biology here).

The pattern is structural: entry (i, j) is marked when the rate of state i names state j,
directly or through derived quantities, so every entry outside it is exactly zero for any
parameter values. Ordering the states by the strongly connected components of that graph gives a
block lower-triangular Newton matrix (the idea behind KLU's BTF step): the stiff solver factors
only the diagonal blocks and multiplies the few off-diagonal entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..spec.model import ModelSpec


def jacobian_pattern(spec: ModelSpec) -> np.ndarray:
    """Boolean (states x states) matrix: True where d(rate of i)/d(state j) can be non-zero."""
    states = spec.state_names
    s_index = {s: k for k, s in enumerate(states)}
    reach: dict[str, set[int]] = {}
    for name in spec.derived_order:  # topological: dependencies come first
        deps: set[int] = set()
        for ref in spec.derived[name].parsed.names:
            if ref in s_index:
                deps.add(s_index[ref])
            elif ref in reach:
                deps |= reach[ref]
        reach[name] = deps
    pattern = np.zeros((len(states), len(states)), dtype=bool)
    for proc in spec.processes.values():
        cols: set[int] = set()
        for ref in proc.parsed.names:
            if ref in s_index:
                cols.add(s_index[ref])
            elif ref in reach:
                cols |= reach[ref]
        for target, coef in proc.stoich.items():
            if float(coef) != 0.0 and cols:
                pattern[s_index[target], sorted(cols)] = True
    return pattern


@dataclass(frozen=True)
class BlockTriangular:
    """A symmetric permutation making the pattern block lower-triangular.

    `perm[k]` is the original index of the state in position k; block b covers positions
    `starts[b]:starts[b+1]`. `off_ptr`/`off_col` list, per permuted row, the permuted columns of
    the structural non-zeros left of that row's diagonal block (CSR layout).
    """

    perm: np.ndarray
    starts: np.ndarray
    off_ptr: np.ndarray
    off_col: np.ndarray

    @property
    def block_sizes(self) -> list[int]:
        return np.diff(self.starts).tolist()

    def dense_flops(self) -> tuple[int, int]:
        """(multiply-adds of one triangular solve, of one factorisation) for this layout."""
        sizes = np.diff(self.starts)
        return int((sizes**2).sum() + self.off_col.size), int((sizes**3 // 3).sum())


def block_triangular(pattern: np.ndarray) -> BlockTriangular:
    """Order states so that each strongly connected component is a diagonal block and every
    component comes after the components it depends on (Tarjan, via SciPy)."""
    n = pattern.shape[0]
    adj = pattern.copy()
    np.fill_diagonal(adj, False)
    # edge j -> i when rate i depends on state j: a state must come after what it depends on
    graph = csr_matrix(adj.T.astype(np.int8))
    n_comp, label = connected_components(graph, directed=True, connection="strong")
    comp_deps: list[set[int]] = [set() for _ in range(n_comp)]
    for i, j in zip(*np.nonzero(adj), strict=True):
        if label[i] != label[j]:
            comp_deps[label[i]].add(label[j])
    order: list[int] = []
    done = np.zeros(n_comp, dtype=bool)
    # Kahn's algorithm, smallest original index first so the order is deterministic
    first = [int(np.flatnonzero(label == c).min()) for c in range(n_comp)]
    remaining = set(range(n_comp))
    while remaining:
        ready = [c for c in remaining if all(done[d] for d in comp_deps[c])]
        c = min(ready, key=lambda k: first[k])
        order.append(c)
        done[c] = True
        remaining.remove(c)
    perm = np.concatenate([np.flatnonzero(label == c) for c in order]).astype(np.int64)
    sizes = [int((label == c).sum()) for c in order]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    block_of = np.repeat(np.arange(len(sizes)), sizes)
    permuted = pattern[np.ix_(perm, perm)]
    ptr, cols = [0], []
    for r in range(n):
        left = starts[block_of[r]]
        cols.extend(int(c) for c in np.flatnonzero(permuted[r, :left]))
        ptr.append(len(cols))
    return BlockTriangular(perm, starts, np.asarray(ptr, dtype=np.int64), np.asarray(cols, dtype=np.int64))


def solve_source(btf: BlockTriangular) -> str:
    """Numba source of ``_btf_solve(A, piv, b, w)``: solve A x = b in place (b in the original state
    order) by block forward substitution, unrolled for this layout so every loop bound and every
    off-diagonal entry is a literal. `A` holds the block LU factors from ``_btf_factor`` (pivots of
    block [s, e) stored relative to s)."""
    lines = ['@njit(cache=True, error_model="numpy")', "def _btf_solve(A, piv, b, w):"]
    lines += [f"    w[{k}] = b[{int(p)}]" for k, p in enumerate(btf.perm)]
    for s, e in zip(btf.starts[:-1].tolist(), btf.starts[1:].tolist(), strict=True):
        for r in range(s, e):
            cols = btf.off_col[btf.off_ptr[r]:btf.off_ptr[r + 1]].tolist()
            if cols:
                lines.append(f"    w[{r}] -= " + " + ".join(f"A[{r}, {c}] * w[{c}]" for c in cols))
        if e - s == 1:
            lines.append(f"    w[{s}] = w[{s}] / A[{s}, {s}]")
            continue
        lines += [
            f"    for k in range({s}, {e}):",
            f"        p = {s} + piv[k]",
            "        if p != k:",
            "            tmp = w[k]",
            "            w[k] = w[p]",
            "            w[p] = tmp",
            f"    for i in range({s + 1}, {e}):",
            "        acc = w[i]",
            f"        for j in range({s}, i):",
            "            acc -= A[i, j] * w[j]",
            "        w[i] = acc",
            f"    for i in range({e - 1}, {s - 1}, -1):",
            "        acc = w[i]",
            f"        for j in range(i + 1, {e}):",
            "            acc -= A[i, j] * w[j]",
            "        w[i] = acc / A[i, i]",
        ]
    lines += [f"    b[{int(p)}] = w[{k}]" for k, p in enumerate(btf.perm)]
    return "\n".join(lines) + "\n\n\n"


def column_groups(pattern: np.ndarray) -> list[list[int]]:
    """Columns of the Jacobian that share no row, greedily grouped (Curtis, Powell & Reid 1974,
    doi:10.1093/imamat/13.1.117): one right-hand-side evaluation with all columns of a group perturbed gives
    every column of the group, since no row depends on two of them. Largest columns first."""
    order = sorted(range(pattern.shape[1]), key=lambda j: (-int(pattern[:, j].sum()), j))
    groups: list[list[int]] = []
    rows: list[np.ndarray] = []
    for j in order:
        col = pattern[:, j]
        for g, used in enumerate(rows):
            if not np.any(used & col):
                groups[g].append(j)
                rows[g] = used | col
                break
        else:
            groups.append([j])
            rows.append(col.copy())
    return [sorted(g) for g in groups]
