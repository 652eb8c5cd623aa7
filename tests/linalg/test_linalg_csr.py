"""prepare(), the 5-point Laplacian, and the kernels run as plain Python."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from decide.errors import MatrixError, ModelError
from decide.linalg import CSRSystem, poisson_2d, prepare


def test_prepare_builds_canonical_int32_csr_with_diagonal():
    coo = sp.coo_array(([2.0, 1.0, -1.0, 3.0, 0.5], ([1, 0, 0, 1, 1], [1, 0, 1, 0, 1])))
    system = prepare(coo)
    assert isinstance(system, CSRSystem)
    assert system.indices.dtype == np.int32 and system.indptr.dtype == np.int32
    np.testing.assert_array_equal(system.indices, [0, 1, 0, 1])
    np.testing.assert_allclose(system.to_scipy().toarray(), [[1.0, -1.0], [3.0, 2.5]])
    np.testing.assert_allclose(system.diagonal, [1.0, 2.5])
    np.testing.assert_allclose(system.inv_diag, [1.0, 0.4])
    assert not system.data.flags.writeable
    assert prepare(system) is system


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "bsr", "dia", "dense"])
def test_prepare_accepts_any_format(fmt):
    A = poisson_2d(3)
    given = A.toarray() if fmt == "dense" else A.asformat(fmt)
    np.testing.assert_array_equal(prepare(given).to_scipy().toarray(), A.toarray())


def test_prepare_names_what_is_wrong():
    with pytest.raises(MatrixError, match="square"):
        prepare(sp.csr_array(np.ones((2, 3))))
    zero = sp.csr_array(np.array([[1.0, 2.0, 0.0], [1.0, 3.0, 0.0], [0.0, 1.0, 0.0]]))
    with pytest.raises(MatrixError, match="row 2") as info:
        prepare(zero)
    assert info.value.row == 2
    explicit_zero = sp.csr_array((np.array([1.0, 0.0]), np.array([0, 1]), np.array([0, 1, 2])))
    with pytest.raises(MatrixError, match="row 1: zero diagonal"):
        prepare(explicit_zero)
    bad = np.eye(3)
    bad[1, 2] = np.nan
    with pytest.raises(MatrixError, match="row 1: non-finite"):
        prepare(bad)
    with pytest.raises(MatrixError, match="complex"):
        prepare(sp.identity(2, dtype=complex, format="csr"))


def test_poisson_2d_structure_and_eigenvalues():
    m = 6
    A = poisson_2d(m)
    assert isinstance(A, sp.csr_matrix) and A.shape == (m * m, m * m)
    assert A.nnz == 5 * m * m - 4 * m
    np.testing.assert_array_equal(A.diagonal(), 4.0)
    assert A[0, 1] == -1 and A[0, m] == -1 and A[m - 1, m] == 0  # x fastest, no wrap
    theta = np.arange(1, m + 1) * np.pi / (m + 1)
    closed = (4 - 2 * np.cos(theta)[:, None] - 2 * np.cos(theta)[None, :]).ravel()
    np.testing.assert_allclose(np.linalg.eigvalsh(A.toarray()), np.sort(closed), atol=1e-12)
    with pytest.raises(ModelError, match="m"):
        poisson_2d(0)


COMPUTE = """
import numpy as np
from decide.linalg import CG, SOR, SSORPCG, poisson_2d, sor_sweep, ssor_apply

def compute():
    A = poisson_2d(3)
    b = np.arange(1.0, 10.0)
    x = np.zeros(9)
    sor_sweep(A, x, b, 1.3)
    out = [x, ssor_apply(A, b, 1.3)]
    for solver in (SOR(omega=1.3), SSORPCG(omega=1.3), CG()):
        result = solver.solve(A, b)
        out.append(np.r_[result.x, result.iterations, result.residual])
    return np.concatenate(out).tolist()
"""


def test_kernels_run_as_plain_python():
    """Under NUMBA_DISABLE_JIT every array access is checked by numpy; results must agree."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    script = COMPUTE + "\nprint(repr(compute()))\n"
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    namespace: dict = {}
    exec(COMPUTE, namespace)
    compiled = namespace["compute"]()
    pure = [float(v) for v in done.stdout.strip().strip("[]").split(",")]
    np.testing.assert_allclose(pure, compiled, rtol=1e-12, atol=1e-15)


def test_shifted_system_equals_the_shifted_matrix():
    A = poisson_2d(4)
    shifted = prepare(A).shifted(-0.5)
    expected = prepare(A - 0.5 * sp.identity(16, format="csr"))
    assert np.array_equal(shifted.to_scipy().toarray(), expected.to_scipy().toarray())
    assert np.allclose(shifted.inv_diag, 1 / 3.5)
    with pytest.raises(MatrixError, match="row 0"):
        prepare(A).shifted(-4.0)
