"""CSV inputs of batch scoring: quoted line breaks at every block boundary, malformed rows
kept in place, separators, compressed files, reruns after a failed start, main guards."""

import csv
import gzip
import io
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from simwidgets import score_pairs
from simwidgets.batch import score_file
from simwidgets.batch.records import plan_blocks


def _multiline_rows(n=120, seed=0):
    rng = np.random.default_rng(seed)
    texts = ["star wars", "line one\nline two", 'say "hi"\nthere', "a, b", '12" vinyl', "zelda\r\nlink", "x"]
    return [[f"Episode {i}", texts[rng.integers(len(texts))], texts[rng.integers(len(texts))]] for i in range(n)]


def _as_csv(rows, header=("id", "query", "result"), quoting=csv.QUOTE_MINIMAL, sep=","):
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=quoting, lineterminator="\n", delimiter=sep)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
def test_blocks_never_split_a_quoted_line_break_at_any_block_size(tmp_path, quoting):
    """Every block size from 1 byte to the whole file puts every boundary at a record end:
    the blocks, parsed one by one, give exactly the file's records."""
    rows = _multiline_rows(40)
    data = _as_csv(rows, quoting=quoting)
    path = tmp_path / "pairs.csv"
    path.write_bytes(data)
    for blocksize in range(1, len(data) + 2):  # every block size, so every record end is a boundary
        layout, blocks = plan_blocks(path, blocksize)
        got = [r for a, b in blocks for r in csv.reader(io.StringIO(data[a:b].decode(), newline=""))]
        assert got == rows, blocksize


def test_irregular_quotes_are_followed_like_csv_readers_do(tmp_path):
    """A quote inside an unquoted field (12" vinyl) is an ordinary character; the scan falls
    back to its exact loop and still cuts only at record ends, across window edges too."""
    import simwidgets.batch.records as records

    rows = _multiline_rows(200, seed=3)
    lines = [",".join(f'"{f}"' if "\n" in f or "," in f else f for f in r) for r in rows]
    data = ("id,query,result\n" + "\n".join(lines) + "\n").encode()
    path = tmp_path / "raw.csv"
    path.write_bytes(data)
    expected = list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]
    for window in (records.WINDOW, 64, 1000):
        records.WINDOW, saved = window, records.WINDOW
        try:
            for blocksize in (1, 50, 333, 10_000):
                _, blocks = plan_blocks(path, blocksize)
                got = [r for a, b in blocks for r in csv.reader(io.StringIO(data[a:b].decode(), newline=""))]
                assert got == expected, (window, blocksize)
        finally:
            records.WINDOW = saved


def test_multiline_fields_score_like_the_whole_file_read_at_once(tmp_path, client):
    """The case that corrupted parts: quoted line breaks, small blocks. Every row comes back
    once, whole, in order, with the scores of reading the file in one go."""
    rows = _multiline_rows(600)
    source = tmp_path / "pairs.csv"
    source.write_bytes(_as_csv(rows))
    summary = score_file(
        source, tmp_path / "out", "query", "result", ["glove-50d"], blocksize=300, client=client, progress=False
    )
    out = pd.read_parquet(tmp_path / "out")
    whole = pd.read_csv(source, dtype=object, keep_default_na=False, na_values=[""])
    assert summary.partitions > 20 and summary.rows == len(out) == 600 and summary.malformed == 0
    assert out["id"].tolist() == [f"Episode {i}" for i in range(600)]
    pd.testing.assert_frame_equal(out[list(whole.columns)], whole.astype(object), check_dtype=False)
    expected = score_pairs(whole["query"], whole["result"], ["glove-50d"])
    np.testing.assert_allclose(out["score_glove-50d"], expected["score_glove-50d"], atol=1e-6)


def test_malformed_rows_are_kept_in_place_and_reported(tmp_path, client):
    source = tmp_path / "ragged.csv"
    source.write_bytes(
        b'id,query,result\n1,cat,dog\n2,zelda,link,extra\n3,short\n4,star wars,matrix\n5,"two\nlines",x,y\n'
    )
    summary = score_file(source, tmp_path / "out", "query", "result", ["glove-50d"], client=client, progress=False)
    out = pd.read_parquet(tmp_path / "out")
    assert out["id"].tolist() == [1, 2, 3, 4, 5] and summary.rows == 5  # integers stay integers
    reasons = out["reason_glove-50d"].tolist()
    assert reasons[1] == "malformed row: 4 fields where the header has 3, at byte 26"
    assert reasons[2] == "malformed row: 2 fields where the header has 3, at byte 45"
    assert reasons[4] == "malformed row: 4 fields where the header has 3, at byte 72"
    assert pd.isna(reasons[0]) and pd.isna(reasons[3])
    assert out["score_glove-50d"].isna().tolist() == [False, True, True, False, True]
    assert out["query"].tolist()[1:3] == ["zelda", "short"]  # the fields it has are kept
    assert summary.malformed == 3
    assert summary.reasons["glove-50d"]["malformed row: 4 fields where the header has 3"] == 2
    assert "3 malformed rows" in str(summary)


def test_tsv_sep_and_compressed_inputs(tmp_path, client):
    rows = _multiline_rows(50)
    expected = None
    inputs = {
        "pairs.tsv": _as_csv(rows, sep="\t"),
        "pairs.csv.gz": gzip.compress(_as_csv(rows)),
        "pairs.txt": _as_csv(rows, sep="|"),
    }
    import zstandard

    inputs["pairs.csv.zst"] = zstandard.ZstdCompressor().compress(_as_csv(rows))
    for name, data in inputs.items():
        (tmp_path / name).write_bytes(data)
        sep = "|" if name.endswith(".txt") else None
        score_file(
            tmp_path / name,
            tmp_path / f"out-{name}",
            "query",
            "result",
            ["glove-50d"],
            sep=sep,
            client=client,
            progress=False,
        )
        out = pd.read_parquet(tmp_path / f"out-{name}")
        assert out["id"].tolist() == [r[0] for r in rows], name
        assert out["query"].tolist() == [r[1] for r in rows], name
        if expected is None:
            expected = out["score_glove-50d"]
        np.testing.assert_allclose(out["score_glove-50d"], expected, atol=1e-6)
    with pytest.raises(ValueError, match="one column only: is the separator right"):
        score_file(tmp_path / "pairs.txt", tmp_path / "o-wrong", "query", "result", ["glove-50d"], client=client)


def test_a_job_that_failed_before_any_part_reruns_with_corrected_settings(tmp_path, client):
    source = tmp_path / "ragged.csv"
    source.write_text("query,result\ncat,dog\nzelda,link,extra\n")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="malformed row"):
        score_file(source, out, "query", "result", ["glove-50d"], on_bad_rows="fail", client=client, progress=False)
    summary = score_file(source, out, "query", "result", ["glove-50d?pooling=sif"], client=client, progress=False)
    assert summary.rows == 2 and "score_glove-50d-sif" in pd.read_parquet(out).columns
    with pytest.raises(ValueError, match="different job"):  # parts written: a different job is refused
        score_file(source, out, "query", "result", ["tfidf"], client=client, progress=False)


def test_a_script_without_a_main_guard_is_refused_at_once_with_the_fix(tmp_path):
    """Worker processes import the script again: without a guard that would start the job in
    each of them. Threads of the script's own process (the default) import nothing."""
    (tmp_path / "pairs.csv").write_text("query,result\ncat,dog\n")
    args = f"{str(tmp_path / 'pairs.csv')!r}, {str(tmp_path / 'out')!r}, 'query', 'result', ['glove-50d']"

    def run(name: str, body: str):
        script = tmp_path / name
        script.write_text(f"from simwidgets import score_file\n{body}")
        return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)

    result = run("threaded.py", f"print(score_file({args}, workers=2, progress=False).rows)\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "1"
    shutil.rmtree(tmp_path / "out")
    call = f"summary = score_file({args}, workers=1, processes=True, progress=False)"
    result = run("bare.py", f"{call}\n")
    assert result.returncode == 1 and 'if __name__ == "__main__":' in result.stderr
    assert "Nanny" not in result.stderr and not (tmp_path / "out" / "part-00000.parquet").exists()
    result = run("guarded.py", f"if __name__ == '__main__':\n    {call}\n    print(summary.rows)\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "1"


def test_repeated_header_names_are_made_distinct_as_pandas_does(tmp_path, client):
    source = tmp_path / "dupes.csv"
    source.write_text("query,result,note,note,note\ncat,dog,a,b,c\nzelda,link,d,e,f\n")
    score_file(source, tmp_path / "out", "query", "result", ["glove-50d"], client=client, progress=False)
    out = pd.read_parquet(tmp_path / "out")
    whole = pd.read_csv(source, dtype=object)
    assert list(out.columns[:5]) == list(whole.columns) == ["query", "result", "note", "note.1", "note.2"]
    assert out["note.2"].tolist() == ["c", "f"]


def test_other_columns_keep_their_types_in_every_block(tmp_path, client):
    """int, float, bool, empty and date-like columns come back as the input's types, in every
    block (small blocks: many partitions), with a malformed row's fields converted too."""
    import datetime

    n = 300
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "query": [f"the cat {i}" for i in range(n)],
            "result": ["a dog"] * n,
            "price": np.arange(n) / 4,
            "flag": [i % 2 == 0 for i in range(n)],
            "empty": [None] * n,
            "day": [f"2024-01-{1 + i % 28:02d}" for i in range(n)],
            "zip": [f"{i:05d}" for i in range(n)],
        }
    )
    source = tmp_path / "pairs.csv"
    text = frame.to_csv(index=False)
    text = text.replace("\n5,the cat 5,a dog,", "\n5,the cat 5,a dog,extra,", 1)  # one malformed row
    source.write_text(text)
    out = tmp_path / "out"
    summary = score_file(
        source,
        out,
        "query",
        "result",
        ["glove-50d"],
        blocksize=2_000,
        text_columns=["zip"],
        client=client,
        progress=False,
    )
    assert summary.partitions > 5 and summary.malformed == 1
    back = pd.read_parquet(out)
    assert len(back) == n and back["id"].tolist() == list(range(n))
    import pyarrow.dataset as ds

    schema = ds.dataset(out).schema  # one schema across every part
    assert [str(schema.field(c).type) for c in ("id", "price", "flag", "day", "zip", "empty")] == [
        "int64",
        "double",
        "bool",
        "date32[day]",
        "string",
        "string",
    ]
    assert back["id"].dtype == np.int64 and back["price"].dtype == np.float64
    assert back["price"].iloc[7] == 7 / 4 and back["flag"].iloc[3] is False and back["flag"].iloc[4] is True
    assert back["flag"].iloc[5] is None  # the malformed row's shifted field is not a boolean
    assert back["empty"].drop(index=5).isna().all()  # row 5 is malformed: its fields are shifted
    assert isinstance(back["day"].iloc[0], datetime.date) and back["day"].iloc[30] == datetime.date(2024, 1, 3)
    assert back["zip"].iloc[7] == "00007"  # kept as text: leading zeros stay
    assert back["query"].iloc[5] == "the cat 5" and back["reason_glove-50d"].iloc[5].startswith("malformed row")


def test_a_later_block_that_breaks_a_column_type_names_the_column_block_and_fix(tmp_path, client):
    rows = ["id,query,result"] + [f"{i},a cat,a dog" for i in range(200)] + ["n/a,a cat,a dog"]
    source = tmp_path / "pairs.csv"
    source.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"column 'id' is int64 in the input's first block.*--text-column id"):
        score_file(
            source, tmp_path / "out", "query", "result", ["glove-50d"], blocksize=500, client=client, progress=False
        )
    summary = score_file(
        source,
        tmp_path / "out2",
        "query",
        "result",
        ["glove-50d"],
        blocksize=500,
        text_columns=["id"],
        client=client,
        progress=False,
    )
    back = pd.read_parquet(tmp_path / "out2")
    assert summary.rows == 201 and back["id"].iloc[-1] == "n/a" and back["id"].iloc[0] == "0"
