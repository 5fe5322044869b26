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


def test_the_fast_cleaning_pass_agrees_with_clean_text_on_every_kind_of_value():
    """clean_texts recognises plain strings in C-level passes; every other value still gets
    clean_text's answer, in place, whatever mixture it arrives in."""
    from simwidgets.texts import clean_texts, clean_texts_sparse

    hostile = [
        "plain",
        "",
        "   ",
        "\u3000",  # an ideographic space: blank, not ASCII
        "caf\u00e9",
        "lone \udcff surrogate",
        None,
        float("nan"),
        pd.NA,
        b"bytes ok",
        b"\xff\xfe bad",
        np.str_("numpy str"),
        42,
        ["a"],
        "last",
    ]
    expected = [clean_text(v) for v in hostile]
    for values in (hostile, [v for v in hostile if isinstance(v, str)], ["a", "b"], []):
        want = [clean_text(v) for v in values]
        texts, reasons = clean_texts(values)
        assert list(zip(texts, reasons)) == want
        texts, bad, why = clean_texts_sparse(values)
        assert texts == [t for t, _ in want]
        assert bad.tolist() == [i for i, (_, r) in enumerate(want) if r is not None]
        assert why == [r for _, r in want if r is not None]
    assert [r for _, r in expected].count(None) == 5  # plain, café, b"bytes ok", numpy str, last
