r"""Weighted undirected graphs for oscillator networks, and the cut of a spin vector.

A :class:`Graph` stores each undirected edge once, as 0-based endpoints
``i < j`` and a nonzero real weight, and builds the symmetric sparse
adjacency matrix :math:`A` from them. Edges may be signed, as in the
toroidal Gset instances.

File formats read by :func:`read_graph`
---------------------------------------
rudy / Gset (any suffix but ``.mtx`` and ``.npy``)
    A header line ``n m``, then ``m`` lines ``i j w`` with 1-based node ids.
    Extra tokens after the two counts are ignored, because some Gset files
    end the header with one. A missing weight means 1. Blank lines and lines
    starting with ``#`` or ``%`` are skipped.
Matrix Market ``.mtx``
    A square symmetric (or ``general`` but numerically symmetric) real,
    integer or pattern matrix; read with ``scipy.io.mmread``.
NumPy ``.npy``
    A dense square symmetric adjacency matrix with a zero diagonal.

Errors name the file and, for rudy files, the line: a wrong edge count,
a self-loop, a node id out of range, a weight that is not a finite number,
and an edge listed twice.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sps

from ..errors import InvalidModelError, ModelFileError
from ..models._files import (TEXT_ENCODING, check_matrix_market_start, check_regular_file,
                             describe_undecodable)
from ..models._loading import MAX_NEURONS, _Verbatim

__all__ = ["Graph", "read_graph", "as_graph", "cut_value", "cut_values"]

logger = logging.getLogger(__name__)

# A header can declare any size; these stop a typo from allocating terabytes.
# The node limit is the core's neuron limit: the solver keeps replicas x n
# phases (10**7 nodes with 64 replicas needed 2.4 GB before any edge was read).
MAX_NODES = MAX_NEURONS
MAX_EDGES = 10**8
# Products and ratios of two weighted degrees must stay finite and nonzero in
# floating point (the solver's gain K = 1/median degree multiplies them, and
# the stability threshold squares them).
MAX_WEIGHTED_DEGREE = 1e150
MIN_WEIGHTED_DEGREE = 1e-150


@dataclass(frozen=True)
class Graph:
    r"""An undirected weighted graph on nodes ``0 .. n-1``.

    Attributes
    ----------
    n : int
        Number of nodes.
    rows, cols : ndarray of int64
        Edge endpoints with ``rows < cols``, one entry per undirected edge.
    weights : ndarray of float
        Nonzero finite edge weights.
    name : str
        The instance name, such as ``G1`` (the file name without suffix).
    """

    n: int
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    name: str = "graph"
    _adjacency: list = field(default_factory=list, repr=False, compare=False)

    @property
    def m(self) -> int:
        """Number of edges."""
        return int(self.weights.size)

    @property
    def total_weight(self) -> float:
        return float(np.sum(self.weights))

    def adjacency(self) -> sps.csr_array:
        r"""Return the symmetric sparse adjacency matrix :math:`A` (cached)."""
        if not self._adjacency:
            data = np.concatenate([self.weights, self.weights])
            rows = np.concatenate([self.rows, self.cols])
            cols = np.concatenate([self.cols, self.rows])
            matrix = sps.csr_array((data, (rows, cols)), shape=(self.n, self.n))
            matrix.sort_indices()
            self._adjacency.append(matrix)
        return self._adjacency[0]

    def dense(self) -> np.ndarray:
        return self.adjacency().toarray()

    def to_dict(self) -> dict:
        return {"name": self.name, "nodes": self.n, "edges": self.m,
                "total_weight": self.total_weight,
                "signed": bool(np.any(self.weights < 0))}


def cut_value(graph: Graph, spins) -> float:
    r"""Return the weight of the cut of ``spins`` (+1/-1 per node).

    :math:`\mathrm{cut}(s) = \sum_{\{i,j\} \in E} w_{ij} (1 - s_i s_j) / 2`.
    """
    spins = _spin_array(spins, graph.n)
    return float(cut_values(graph, spins[None, :])[0])


def cut_values(graph: Graph, spins: np.ndarray) -> np.ndarray:
    """Return the cut of each row of a (replicas, n) array of +1/-1 spins."""
    spins = np.asarray(spins, dtype=float)
    agree = spins[:, graph.rows] * spins[:, graph.cols]
    return (1.0 - agree) @ graph.weights / 2.0


def _spin_array(spins, n: int) -> np.ndarray:
    array = np.asarray(spins)
    if array.shape != (n,):
        raise InvalidModelError("spins", f"{n} entries, one per node", f"shape {array.shape}",
                                "Give one +1 or -1 per node, in node order.")
    if not np.all((array == 1) | (array == -1)):
        bad = _python_scalar(array[(array != 1) & (array != -1)][0])
        raise InvalidModelError("spins", "entries +1 or -1", bad,
                                "Round phases to spins with sign(cos(phi)).")
    return array.astype(float)


def _python_scalar(value):
    """Return a NumPy scalar as the Python number it contains (messages then show 0.0, not np.float64)."""
    return value.item() if isinstance(value, np.generic) else value


# -- building graphs ------------------------------------------------------------------


def as_graph(value, *, field: str = "graph", name: str = "graph") -> Graph:
    """Return a :class:`Graph` from a Graph, a path, a matrix or a networkx graph."""
    if isinstance(value, Graph):
        return value
    if isinstance(value, (str, os.PathLike)):
        return read_graph(value)
    if type(value).__module__.startswith("networkx"):
        return _from_networkx(value, field=field, name=name)
    return from_matrix(value, field=field, name=name)


def from_matrix(matrix, *, field: str = "adjacency", name: str = "graph",
                first_node: int = 0) -> Graph:
    """Return the graph of a symmetric adjacency matrix with a zero diagonal.

    ``first_node`` is the number that error messages give the first node:
    0 for arrays, 1 for files whose format numbers nodes from 1.
    """
    if sps.issparse(matrix):
        matrix = sps.coo_array(matrix)
        shape = matrix.shape
        rows, cols, data = matrix.row, matrix.col, np.asarray(matrix.data, dtype=float)
    else:
        try:
            dense = np.asarray(matrix, dtype=float)
        except (TypeError, ValueError) as error:
            raise InvalidModelError(field, "a square matrix of numbers", matrix,
                                    "Give n rows of n numbers.") from error
        shape = dense.shape
        if dense.ndim != 2:
            raise InvalidModelError(field, "a square matrix (n x n)", f"shape {shape}",
                                    "Give n rows of n numbers.")
        rows, cols = np.nonzero(dense)
        data = dense[rows, cols]
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise InvalidModelError(field, "a non-empty square matrix (n x n)", f"shape {shape}",
                                "Give n rows of n numbers.")
    if not np.all(np.isfinite(data)):
        raise InvalidModelError(field, "finite weights", "nan or inf",
                                "Replace the non-finite entries.")
    diagonal = rows == cols
    if np.any(diagonal & (data != 0)):
        node = int(rows[diagonal & (data != 0)][0]) + first_node
        numbering = "" if first_node == 0 else f" (nodes numbered from {first_node})"
        raise InvalidModelError(field, "a zero diagonal (no self-loops)",
                                f"a self-loop at node {node}{numbering}",
                                "Remove the diagonal entries; sin(phi_i - phi_i) = 0, so a "
                                "self-loop has no effect on the dynamics.")
    keep = data != 0
    rows, cols, data = rows[keep], cols[keep], data[keep]
    upper = sps.csr_array((data, (rows, cols)), shape=shape)
    if upper.nnz and abs(upper - upper.T).max() != 0:
        raise InvalidModelError(field, "a symmetric matrix", "an asymmetric matrix",
                                "Couplings of an undirected graph satisfy a_ij = a_ji.")
    triangle = sps.triu(upper, k=1).tocoo()
    return _make_graph(shape[0], triangle.row, triangle.col, triangle.data, name, field=field,
                       first_node=first_node)


def _from_networkx(graph, *, field: str, name: str) -> Graph:
    nodes = list(graph.nodes())
    index = {node: position for position, node in enumerate(nodes)}
    rows, cols, weights = [], [], []
    for u, v, data in graph.edges(data=True):
        if u == v:
            raise InvalidModelError(field, "a graph without self-loops", f"a self-loop at {u!r}",
                                    "Remove it with G.remove_edges_from(nx.selfloop_edges(G)).")
        weight = data.get("weight", 1.0)
        if not isinstance(weight, (int, float, np.number)) or isinstance(weight, bool) \
                or not math.isfinite(float(weight)):
            raise InvalidModelError(f"{field} edge ({u!r}, {v!r}) weight", "a finite number",
                                    weight, "Set numeric 'weight' attributes.")
        if weight != 0:
            i, j = sorted((index[u], index[v]))
            rows.append(i)
            cols.append(j)
            weights.append(float(weight))
    if not nodes:
        raise InvalidModelError(field, "a graph with at least one node", "an empty graph",
                                "Add nodes.")
    return _make_graph(len(nodes), np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64),
                       np.array(weights, dtype=float), getattr(graph, "name", "") or name,
                       field=field)


def _make_graph(n: int, rows, cols, weights, name: str, *, field: str = "weights",
                first_node: int = 0) -> Graph:
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    if weights.size:
        # Sums of |w| in float: an inf sum is above the limit as well.
        with np.errstate(over="ignore"):
            degrees = np.bincount(rows, np.abs(weights), n) + np.bincount(cols, np.abs(weights), n)
        connected = degrees[degrees > 0]
        largest = float(degrees.max())
        smallest = float(connected.min()) if connected.size else MIN_WEIGHTED_DEGREE
        if not largest <= MAX_WEIGHTED_DEGREE or smallest < MIN_WEIGHTED_DEGREE:
            node = int(np.argmax(degrees)) if not largest <= MAX_WEIGHTED_DEGREE \
                else int(np.flatnonzero(degrees == smallest)[0])
            value = degrees[node]
            raise InvalidModelError(
                field, f"weighted degrees sum_j |a_ij| between {MIN_WEIGHTED_DEGREE:g} and "
                f"{MAX_WEIGHTED_DEGREE:g} (nodes with edges)",
                f"{value:g} at node {node + first_node}",
                "Scale all weights by a common factor (the best cut scales with it), or "
                "drop edges far lighter than the rest.")
    order = np.lexsort((cols, rows))
    return Graph(int(n), rows[order], cols[order], weights[order], name)


# -- files ------------------------------------------------------------------------------


def read_graph(path: str | os.PathLike, *, field: str = "graph_file") -> Graph:
    """Read a graph from a rudy/Gset, Matrix Market ``.mtx`` or NumPy ``.npy`` file."""
    path = Path(path)
    check_regular_file(path, field=field, received=str(path), expected="an existing graph file",
                       missing_fix="Check the path; a relative name in a model file is "
                                   "resolved against the model file's folder.")
    name = path.stem if path.suffix.lower() in (".mtx", ".npy", ".txt") else path.name
    suffix = path.suffix.lower()
    try:
        if suffix == ".mtx":
            graph = _read_mtx(path, field, name)
        elif suffix == ".npy":
            graph = _read_npy(path, field, name)
        else:
            graph = _read_rudy(path, field, name)
    except OSError as error:
        raise ModelFileError(field, "a readable file", str(path),
                             f"Check its permissions ({error.strerror}).") from error
    logger.info("read graph %s: %d nodes, %d %s", path, graph.n, graph.m,
                "edge" if graph.m == 1 else "edges")
    return graph


def _read_rudy(path: Path, field: str, name: str) -> Graph:
    def fail(line_number: int, expected: str, received: object, fix: str) -> ModelFileError:
        return ModelFileError(f"{field} {path.name} line {line_number}", expected, received,
                              fix + f" The file is {path}.")

    try:
        with path.open(encoding=TEXT_ENCODING) as stream:
            lines = [(number, text.split()) for number, text in enumerate(stream, start=1)
                     if text.strip() and not text.lstrip().startswith(("#", "%"))]
    except UnicodeDecodeError as error:
        with path.open("rb") as stream:
            head = stream.read(4)
        raise ModelFileError(field, "UTF-8 text", describe_undecodable(head, error),
                             f"Save {path} as UTF-8 text.") from error
    if not lines:
        raise ModelFileError(field, "a header line 'n m'", "an empty file",
                             f"Write the node and edge counts on the first line of {path}.")

    header_line, header = lines[0]
    try:
        n, m = int(header[0]), int(header[1])
    except (ValueError, IndexError):
        raise fail(header_line, "a header 'n m' of two integers", " ".join(header),
                   "Write the node count and the edge count on the first line.") from None
    if not (1 <= n <= MAX_NODES) or not (0 <= m <= MAX_EDGES):
        raise fail(header_line, f"1 <= n <= {MAX_NODES} and 0 <= m <= {MAX_EDGES}",
                   f"n = {n}, m = {m}", "Correct the counts in the header.")
    body = lines[1:]
    if len(body) != m:
        # The first surplus line, else the last line read.
        if len(body) > m:
            at = body[m][0]
        elif body:
            at = body[-1][0]
        else:
            at = header_line
        raise fail(at, f"{m} edge lines, as the header declares", f"{len(body)} edge lines",
                   "Correct the edge count in the header or add the missing edges.")

    rows = np.empty(m, dtype=np.int64)
    cols = np.empty(m, dtype=np.int64)
    weights = np.empty(m, dtype=float)
    for position, (line_number, tokens) in enumerate(body):
        if len(tokens) not in (2, 3):
            raise fail(line_number, "an edge 'i j w' or 'i j'", " ".join(tokens),
                       "Write two node ids and an optional weight.")
        try:
            i, j = int(tokens[0]), int(tokens[1])
        except ValueError:
            raise fail(line_number, "integer node ids", " ".join(tokens[:2]),
                       "Node ids are whole numbers from 1 to n.") from None
        for node in (i, j):
            if not 1 <= node <= n:
                raise fail(line_number, f"node ids from 1 to n = {n}", node,
                           "Node ids are 1-based and at most the node count in the header.")
        if i == j:
            raise fail(line_number, "an edge between two different nodes", f"a self-loop at {i}",
                       "Remove the line; a self-loop does not change any cut.")
        weight = 1.0
        if len(tokens) == 3:
            try:
                weight = float(tokens[2])
            except ValueError:
                raise fail(line_number, "a numeric weight", tokens[2],
                           "Write the weight as a number such as 1 or -1.") from None
            if not math.isfinite(weight):
                raise fail(line_number, "a finite weight", tokens[2], "Replace nan or inf.")
        rows[position], cols[position] = min(i, j) - 1, max(i, j) - 1
        weights[position] = weight

    keys = rows * n + cols
    order = np.argsort(keys, kind="stable")
    repeated = np.nonzero(np.diff(keys[order]) == 0)[0]
    if repeated.size:
        position = int(order[repeated[0] + 1])
        line_number = body[position][0]
        raise fail(line_number, "each edge listed once", f"edge {rows[position] + 1} "
                   f"{cols[position] + 1} again", "Merge the repeated edges into one line.")
    keep = weights != 0
    return _make_graph(n, rows[keep], cols[keep], weights[keep], name, field=field,
                       first_node=1)


def _read_mtx(path: Path, field: str, name: str) -> Graph:
    check_matrix_market_start(path, field=field)
    try:
        rows, columns, _, _, value_type, _ = scipy.io.mminfo(path)
        if value_type == "complex":
            raise ValueError("complex entries")
        matrix = scipy.io.mmread(path, spmatrix=False)
    except (ValueError, IndexError) as error:
        raise ModelFileError(field, "a real symmetric Matrix Market file", str(error),
                             f"Write it with scipy.io.mmwrite. The file is {path}.") from error
    try:
        return from_matrix(matrix, field=f"{field} {path.name}", name=name, first_node=1)
    except ModelFileError:
        raise
    except InvalidModelError as error:
        raise ModelFileError(error.field, error.expected, _Verbatim(error.received),
                             f"{error.fix} The file is {path}.") from error


def _read_npy(path: Path, field: str, name: str) -> Graph:
    try:
        matrix = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise ModelFileError(field, "a NumPy .npy file of numbers", str(error),
                             f"Save a float array with numpy.save. The file is {path}.") from error
    if matrix.dtype.kind not in "fiu":
        raise ModelFileError(field, "a real numeric dtype", f"dtype {matrix.dtype}",
                             f"Save a float array. The file is {path}.")
    try:
        return from_matrix(matrix, field=f"{field} {path.name}", name=name, first_node=1)
    except InvalidModelError as error:
        raise ModelFileError(error.field, error.expected, _Verbatim(error.received),
                             f"{error.fix} The file is {path}.") from error
