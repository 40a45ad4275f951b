"""The naming rule and the file-system rules, without a database."""
from __future__ import annotations

import os
import shutil

import pytest
from django.core.exceptions import ValidationError

from labtrack.dropfolders import files
from labtrack.dropfolders.models import DEFAULT_NAMING_RULE
from labtrack.dropfolders.naming import check_naming_rule, sample_code_candidates
from tests.labtrack.dropfolders.conftest import ASPIRIN, STRYCHNINE, TOPSPIN


@pytest.mark.parametrize("name, is_file, expected", [
    ("NC12.8-P.dat", True, ["NC12.8-P", "NC12.8"]),
    ("NC12.8-P-AGED_saxs.dat", True, ["NC12.8-P-AGED", "NC12.8-P", "NC12.8"]),
    ("NC12.8-P-AGED-cs133.zip", True, ["NC12.8-P-AGED-cs133", "NC12.8-P-AGED", "NC12.8-P", "NC12.8"]),
    ("NC12.8-P", False, ["NC12.8-P", "NC12.8"]),  # a data set folder: ".8-P" is no extension
    ("NC6.4-INK 2024-05-01.csv", True, ["NC6.4-INK", "NC6.4"]),
    ("scan_0001.xy", True, []),
    ("10", False, []),
])
def test_default_rule_finds_the_sample_code(name, is_file, expected):
    assert sample_code_candidates(DEFAULT_NAMING_RULE, name, is_file=is_file) == expected


def test_a_lab_rule_with_a_prefix():
    rule = r"^\d{8}_(?P<sample>[A-Z]+\d+\.\d+-[A-Z]+)"
    assert sample_code_candidates(rule, "20240501_NC8.3-P_cs133.zip")[0] == "NC8.3-P"


@pytest.mark.parametrize("rule, problem", [("(?P<sample>NC[", "not a valid regular expression"),
                                           (r"^NC\d+", "group named 'sample'")])
def test_bad_rules_are_refused_with_the_reason(rule, problem):
    with pytest.raises(ValidationError) as exc:
        check_naming_rule(rule)
    assert problem in exc.value.message_dict["naming_rule"][0]


def _listing(path):
    return set(files.experiment_files(str(path)))


def test_real_experiments_are_complete_and_parts_of_them_are_not(tmp_path):
    assert files.topspin_missing(_listing(STRYCHNINE)) == []
    assert files.topspin_missing(_listing(TOPSPIN / "cyclosporin-t1ir" / "1")) == []  # 2D: ser, acqu2s, 2rr
    partial = tmp_path / "1"
    shutil.copytree(TOPSPIN / "cyclosporin-t1ir" / "1", partial)
    os.remove(partial / "pdata" / "1" / "2rr")
    os.remove(partial / "acqu2s")
    assert files.topspin_missing(_listing(partial)) == ["acqu2s", "pdata/1/2rr"]
    raw_only = tmp_path / "raw"
    shutil.copytree(ASPIRIN, raw_only, ignore=shutil.ignore_patterns("pdata"))
    assert files.topspin_missing(_listing(raw_only)) == []  # acquired, not yet processed: complete
    (raw_only / "pdata").mkdir()
    assert files.topspin_missing(_listing(raw_only)) == ["pdata/1"]


def test_same_content_same_checksum_and_zip_whatever_the_copy(tmp_path):
    a, b = tmp_path / "a" / "1", tmp_path / "b" / "7"
    shutil.copytree(ASPIRIN, a)
    shutil.copytree(ASPIRIN, b)
    os.utime(b / "fid", (0, 0))
    sha = [files.content_sha256(files.Candidate("topspin", n, n, str(p))) for n, p in (("a", a), ("b", b))]
    assert sha[0] == sha[1]
    zips = [files.zip_experiment(str(p), "X/1", str(p.parent)) for p in (a, b)]
    assert files.file_sha256(zips[0]) == files.file_sha256(zips[1])
    (b / "pdata" / "1" / "title").write_text("changed")
    assert files.content_sha256(files.Candidate("topspin", "b", "b", str(b))) != sha[0]


def test_move_aside_never_overwrites(tmp_path):
    dest = tmp_path / "processed"
    for text in ("first", "second"):
        (tmp_path / "NC8.3-P.dat").write_text(text)
        files.move_aside(str(tmp_path / "NC8.3-P.dat"), str(dest), "NC8.3-P.dat")
    assert (dest / "NC8.3-P.dat").read_text() == "first" and (dest / "NC8.3-P-2.dat").read_text() == "second"
