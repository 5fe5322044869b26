"""Readers of labelled pairs: word-similarity lists, STS-B, MRPC, SICK, any CSV or TSV with
named columns, and ``load_pairs``, which tells the format from the file.

>>> from simwidgets import readers
>>> sorted(readers.__all__)[:3]
['load_pairs', 'read_columns', 'read_mrpc']
"""

from .evaluation.datasets import load_pairs, read_columns, read_mrpc, read_sick, read_stsb, read_table, read_word_pairs
from .evaluation.sts_sets import read_sts_tsv

__all__ = [
    "load_pairs",
    "read_columns",
    "read_mrpc",
    "read_sick",
    "read_stsb",
    "read_sts_tsv",
    "read_table",
    "read_word_pairs",
]
