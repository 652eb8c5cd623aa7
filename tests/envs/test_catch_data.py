"""The catch-data loader on the shared RAM files and on small hand-written bad files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decide.envs.fisheries.data.catch_data import (
    DATA_DIR_ENV,
    MIN_YEARS,
    catch_files,
    load_stock,
)
from decide.errors import DecideError, FormatError, UsageError

PAPER = "fisheries/paper_stocks_ram_v3_ARGHAKENARG_PLAICNS.csv"
ALL = "fisheries/ram_v3_ssb_tc_211stocks.csv"

GOOD = """stockid,commonname,areaname,year,SSB,TC
FISH,Test fish,Somewhere,2000,100,10
FISH,Test fish,Somewhere,2001,90,20
FISH,Test fish,Somewhere,2003,80,30
FISH,Test fish,Somewhere,2004,85,25
FISH,Test fish,Somewhere,2005,95,15
FISH,Test fish,Somewhere,2006,120,12
"""


def write(tmp_path, text, name="catch.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_paper_hake_as_published(shared_file):
    hake = load_stock("ARGHAKENARG", shared_file(PAPER))
    assert hake.n_years == 15 and (hake.year[0], hake.year[-1]) == (1986, 2007)
    assert hake.scale == 481_050  # the paper's "max SSB" of hake
    assert hake.gaps == ((1996, 1999), (2000, 2006))
    assert hake.biomass.max() == 1.0
    assert hake.scaled_catch[0] == pytest.approx(196_008 / 481_050)
    assert (hake.name, hake.area) == ("Argentine hake", "Northern Argentina")


def test_plaice_by_index_in_the_211_stock_file_matches_the_paper_file(shared_file):
    by_id = load_stock("PLAICNS", shared_file(PAPER))
    by_index = load_stock(137, shared_file(ALL))
    assert by_index.scale == by_id.scale == 460_708
    np.testing.assert_array_equal(by_index.year, by_id.year)
    np.testing.assert_array_equal(by_index.catch, by_id.catch)


def test_directory_search_prefers_files_naming_the_unit(shared_file, monkeypatch):
    folder = shared_file(PAPER).parent
    files = [p.name for p in catch_files(folder)]
    assert files.index(shared_file(PAPER).name) < files.index("arghakenarg_ram_v4.491_rl-intro.csv")
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    hake = load_stock("arghakenarg")  # case-insensitive, found through $DECIDE_DATA_DIR
    assert hake.source.name == shared_file(PAPER).name
    assert load_stock("Argentine hake").stock == "ARGHAKENARG"


def test_bare_ssb_tc_spelling(shared_file):
    v4 = load_stock("ARGHAKENARG", shared_file("fisheries/arghakenarg_ram_v4.491_rl-intro.csv"))
    assert v4.scale == 491_000 and v4.year[-1] == 2014


def test_no_data_location(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(UsageError, match=r"--data-dir.*DECIDE_DATA_DIR"):
        load_stock("ARGHAKENARG")


def test_good_file_gaps_and_filtering(tmp_path):
    text = GOOD + "FISH,Test fish,Somewhere,2007,NA,10\nFISH,Test fish,Somewhere,2008,10,11\n"
    fish = load_stock("fish", write(tmp_path, text))
    assert fish.gaps == ((2001, 2003),)
    assert fish.dropped == ((2007, "missing value"), (2008, "SSB not above TC"))
    assert fish.scale == 120 and fish.n_years == 6


@pytest.mark.parametrize(
    ("text", "pattern", "line"),
    [
        ("stockid,year,SSB\nA,2000,1\n", r"missing column\(s\) tc_mt or tc; expected", 1),
        ("", "empty file", 1),
        (GOOD.replace("2001,90,20", "2001,ninety,20"), r"'ssb': .*got 'ninety'", 3),
        (GOOD.replace("2001,90,20", "2001,90,-20"), r"'tc': .*non-negative.*got '-20'", 3),
        (GOOD.replace("2001,90,20", "2001,inf,20"), r"'ssb'.*got 'inf'", 3),
        (GOOD.replace("2003,80", "2003.5,80"), "'year': expected an integer", 4),
        (GOOD.replace("2003,80", "2001,80"), "year 2001 appears twice", 4),
        (GOOD.replace("2004,85,25", "2004,85"), "5 fields, the header has 6", 5),
    ],
)
def test_format_errors_name_file_line_and_column(tmp_path, text, pattern, line):
    path = write(tmp_path, text)
    with pytest.raises(FormatError, match=pattern) as error:
        load_stock("FISH", path)
    assert error.value.path == str(path) and error.value.line == line
    assert str(error.value).startswith(f"{path}:{line}: ")


def test_not_utf8(tmp_path):
    path = tmp_path / "catch.csv"
    path.write_bytes(GOOD.encode().replace(b"Somewhere", b"Somewh\xe8re"))
    with pytest.raises(FormatError, match="UTF-8"):
        load_stock("FISH", path)


def test_too_short_says_the_minimum(tmp_path):
    text = "\n".join(GOOD.splitlines()[:4]) + "\n"
    with pytest.raises(FormatError, match=f"3 usable years.*at least {MIN_YEARS}"):
        load_stock("FISH", write(tmp_path, text))


def test_unknown_stock_suggests_close_matches(shared_file):
    with pytest.raises(UsageError, match=r"unknown stock 'ARGHAKENAR'.*did you mean ARGHAKENARG"):
        load_stock("ARGHAKENAR", shared_file(PAPER))


def test_shared_common_name_is_ambiguous(shared_file):
    with pytest.raises(UsageError, match=r"names 3 stocks.*135 .*136 .*137 "):
        load_stock("European plaice", shared_file(ALL))


def test_directory_without_catch_files(tmp_path):
    write(tmp_path, "a,b\n1,2\n", "other.csv")
    with pytest.raises(UsageError, match="no CSV file"):
        load_stock("FISH", tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        load_stock("FISH", tmp_path / "nowhere")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(
        st.tuples(
            st.integers(0, len(GOOD)), st.integers(0, 4), st.sampled_from(',\n"-.xNa 9\x00é')
        ),
        max_size=4,
    )
)
def test_mutated_files_load_or_raise_a_decide_error(tmp_path, cuts):
    text = GOOD
    for at, length, insert in cuts:
        text = text[:at] + insert + text[at + length :]
    path = write(tmp_path, text)
    try:
        fish = load_stock("FISH", path)
    except DecideError:
        return
    assert fish.n_years >= MIN_YEARS and np.all(fish.ssb > fish.catch)
