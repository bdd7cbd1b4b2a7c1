"""Catalog files: every bad row is reported with its line number and nothing is returned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worker.admin.catalog_file import CatalogFileError, read_catalog_file, validate_row

HEADER = "sku,name,aliases,unit,pack_size,price_cents,category\n"


def refused(path: Path) -> list[tuple[int, str]]:
    with pytest.raises(CatalogFileError) as err:
        read_catalog_file(path)
    return err.value.problems


def test_a_good_csv_reads_aliases_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "A-1, Agua ,agua| ciel |,caja,,9000,\n\nB-1,Bolsa,,bolsa,3,0,hielo\n", encoding="utf-8")

    rows = read_catalog_file(path).rows

    assert [(r.line, r.sku, r.name, r.aliases, r.pack_size, r.price_cents, r.category) for r in rows] == [
        (2, "A-1", "Agua", ("agua", "ciel"), 1, 9000, None), (4, "B-1", "Bolsa", (), 3, 0, "hielo")]


def test_bad_csv_rows_are_all_reported_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "A-1,Agua,,caja,1,1,\nA-2,,,caja,1.5,-1,\nA-1,Dup,,caja,1,1,\nA-3,Tres,,caja,1,1\n",
                    encoding="utf-8")

    problems = refused(path)

    assert [line for line, _ in problems] == [3, 4, 5]
    assert "name is missing" in problems[0][1] and "pack_size must be a whole number" in problems[0][1]
    assert "price_cents must be at least 0" in problems[0][1]
    assert problems[1][1] == "duplicate sku 'A-1' (first on line 2)"
    assert "6 fields, the header has 7" in problems[2][1]


def test_a_missing_or_unknown_header_column_is_line_one(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sku,name,unit,colour\nA,B,caja,red\n", encoding="utf-8")
    assert refused(path) == [(1, "unknown column 'colour' (allowed: sku, name, aliases, unit, pack_size, "
                                 "price_cents, category)"), (1, "missing column 'price_cents'")]


def test_json_rows_are_reported_at_the_line_their_object_starts(tmp_path: Path) -> None:
    products = [{"sku": "A", "name": "a", "unit": "u", "price_cents": 1},
                {"sku": "B", "name": "b", "unit": "u", "price_cents": 1, "pack_size": "six"}]
    path = tmp_path / "c.json"
    path.write_text('{\n "distributor": {"slug": "x"},\n "products": [\n' + ",\n".join(json.dumps(p) for p in products)
                    + "\n ]\n}\n", encoding="utf-8")
    assert refused(path) == [(5, "pack_size must be a whole number, got 'six'")]


def test_not_json_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{\n "products": [\n  {"sku": }\n ]\n}\n', encoding="utf-8")
    assert refused(path)[0][0] == 3


@pytest.mark.parametrize(("value", "ok"), [(3, True), ("3", True), (3.0, True), (True, False), ("3.5", False),
                                           (0, False), ("", True)])
def test_pack_size_must_be_a_positive_whole_number(value: object, ok: bool) -> None:
    raw = {"sku": "A", "name": "a", "unit": "u", "price_cents": 1, "pack_size": value}
    if ok:
        assert validate_row(1, raw).pack_size in {1, 3}
    else:
        with pytest.raises(ValueError, match="pack_size"):
            validate_row(1, raw)
