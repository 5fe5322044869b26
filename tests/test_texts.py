import math

import numpy as np
import pandas as pd
import pytest

from simwidgets.texts import BAD_UTF8, EMPTY, MISSING, as_text_list, clean_text


@pytest.mark.parametrize(
    "value, reason",
    [
        (None, MISSING),
        (float("nan"), MISSING),
        (pd.NA, MISSING),
        ("", EMPTY),
        ("   \t\n", EMPTY),
        (b"\xff\xfe bad", BAD_UTF8),
        ("lone \udcff surrogate", BAD_UTF8),
    ],
)
def test_bad_texts_get_a_reason(value, reason):
    text, why = clean_text(value)
    assert text is None
    assert why == reason


def test_non_strings_name_their_type():
    assert clean_text(42) == (None, "not a string (int)")
    assert clean_text(["a"]) == (None, "not a string (list)")


def test_good_texts_pass_through():
    assert clean_text("héllo") == ("héllo", None)
    assert clean_text("caf\xc3\xa9".encode("latin-1")) == ("café", None)
    assert clean_text(np.str_("x")) == ("x", None)


def test_single_string_is_refused_as_a_list():
    with pytest.raises(TypeError, match="wrap it in a list"):
        as_text_list("just one text")


def test_arrays_and_series_become_lists():
    assert as_text_list(pd.Series(["a", None], dtype=object)) == ["a", None]
    # pandas string columns hold NaN for missing values: still reported as missing
    assert clean_text(as_text_list(pd.Series(["a", None]))[1]) == (None, MISSING)
    assert as_text_list(np.array(["a", "b"])) == ["a", "b"]
    with pytest.raises(ValueError, match="one-dimensional"):
        as_text_list(np.array([["a"]]))
    assert math.isnan(as_text_list([float("nan")])[0])
