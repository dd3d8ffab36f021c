from pathlib import Path

import pytest

from proctor_cli.commands_exam import read_candidates


def test_reads_rows_with_line_numbers_aliases_and_a_bom(tmp_path: Path):
    path = tmp_path / "c.csv"
    path.write_text("\ufeff考生编号,姓名,证件照,场次,考场\nc1,张三,p/c1.jpg,s1,r1\n\nc2,李四,p/c2.jpg,s1,r2\n",
                    encoding="utf-8")
    rows, rejected = read_candidates(path)
    assert [(r.line, r.candidate_id, r.name, r.room_id) for r in rows] == [(2, "c1", "张三", "r1"),
                                                                            (4, "c2", "李四", "r2")]
    assert rejected == []


def test_malformed_rows_are_rejected_with_their_line(tmp_path: Path):
    path = tmp_path / "c.csv"
    path.write_text("candidate_id,name,id_photo,sitting_id,room_id\nc1,A,p,s1,r1\nc2,B\n", encoding="utf-8")
    rows, rejected = read_candidates(path)
    assert len(rows) == 1
    assert rejected[0]["line"] == 3 and rejected[0]["reason"] == "MALFORMED_ROW"


def test_a_header_without_required_columns_is_refused(tmp_path: Path):
    path = tmp_path / "c.csv"
    path.write_text("id,name\nc1,A\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="sitting_id"):
        read_candidates(path)
