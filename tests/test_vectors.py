"""The bottom floor's vector maths."""

import numpy as np

from simwidgets.vectors import content_digest, normalize_rows, unit_rows


def test_normalize_rows_keeps_zero_and_nan_rows():
    out = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0], [np.nan, np.nan]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], [0.6, 0.8], rtol=1e-6)
    assert (out[1] == 0).all() and np.isnan(out[2]).all()


def test_unit_rows_is_contiguous_and_finite():
    out = unit_rows(np.asfortranarray(np.array([[3.0, 4.0], [np.nan, np.nan]])))
    assert out.flags.c_contiguous and np.isfinite(out).all()


def test_content_digest_follows_content_shape_and_params():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert content_digest(a, {"k": 1}) == content_digest(a.copy(), {"k": 1})
    assert content_digest(a, {"k": 1}) != content_digest(a, {"k": 2})
    assert content_digest(a, {"k": 1}) != content_digest(a.reshape(3, 2), {"k": 1})
    b = a.copy()
    b[1, 2] += 1
    assert content_digest(a, {"k": 1}) != content_digest(b, {"k": 1})
