"""Reading a catalog file (JSON or CSV) into validated rows, or refusing it with line numbers.

JSON is shaped like the eval catalogs: `{"distributor": {slug, name, country, locale, currency,
timezone}, "products": [{sku, name, aliases, unit, pack_size, price_cents, category}]}`. CSV has the
header `sku,name,aliases,unit,pack_size,price_cents,category`, aliases separated by `|`. Every row
is checked before anything is written: a non-number pack size, a negative price, a duplicate SKU,
an unknown column... each is reported with its line number, and the file is refused as a whole.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worker.admin.errors import AdminError

COLUMNS = ("sku", "name", "aliases", "unit", "pack_size", "price_cents", "category")
REQUIRED = ("sku", "name", "unit", "price_cents")
ALIAS_SEPARATOR = "|"
MAX_ERRORS_SHOWN = 20
_PRODUCTS_ARRAY = re.compile(r'"products"\s*:\s*\[')


@dataclass(frozen=True, kw_only=True)
class CatalogRow:
    line: int  # where the row starts in the file
    sku: str
    name: str
    aliases: tuple[str, ...]
    unit: str
    pack_size: int
    price_cents: int
    category: str | None

    def as_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "name": self.name, "aliases": list(self.aliases), "unit": self.unit,
                "pack_size": self.pack_size, "price_cents": self.price_cents, "category": self.category}


@dataclass(frozen=True, kw_only=True)
class CatalogFile:
    distributor: Mapping[str, Any] | None  # the JSON file's distributor block (None for CSV)
    rows: tuple[CatalogRow, ...]


class CatalogFileError(AdminError):
    """The file is refused: every problem found, each with its line number."""

    def __init__(self, path: Path, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = "\n".join(f"  line {line}: {problem}" for line, problem in problems[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(problems) - MAX_ERRORS_SHOWN} more" if len(problems) > MAX_ERRORS_SHOWN else ""
        super().__init__(f"{path}: refused, nothing imported ({len(problems)} problem(s)):\n{shown}{more}")


def _integer(value: object, column: str, *, minimum: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{column} must be a whole number, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    else:
        raise ValueError(f"{column} must be a whole number, got {value!r}")
    if number < minimum:
        raise ValueError(f"{column} must be at least {minimum}, got {number}")
    return number


def _text(value: object, column: str, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"{column} is missing")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{column} must be text, got {value!r}")
    return value.strip()


def _aliases(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items: Iterable[object] = value.split(ALIAS_SEPARATOR) if isinstance(value, str) else value  # type: ignore[assignment]
    if isinstance(value, str | list):
        aliases = []
        for item in items:
            if not isinstance(item, str):
                raise ValueError(f"aliases must be text, got {item!r}")
            if item.strip():
                aliases.append(item.strip())
        return tuple(aliases)
    raise ValueError(f"aliases must be a list or '|'-separated text, got {value!r}")


def validate_row(line: int, raw: Mapping[str, object]) -> CatalogRow:
    """One product, checked; raises ValueError naming every problem of the row."""
    problems: list[str] = []
    unknown = sorted(set(raw) - set(COLUMNS))
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)} (allowed: {', '.join(COLUMNS)})")

    def check(parse: Callable[[], Any]) -> Any:
        try:
            return parse()
        except ValueError as exc:
            problems.append(str(exc))
            return None

    pack = raw.get("pack_size")
    sku = check(lambda: _text(raw.get("sku"), "sku", required=True))
    name = check(lambda: _text(raw.get("name"), "name", required=True))
    aliases = check(lambda: _aliases(raw.get("aliases")))
    unit = check(lambda: _text(raw.get("unit"), "unit", required=True))
    pack_size = 1 if pack is None or pack == "" else check(lambda: _integer(pack, "pack_size", minimum=1))
    price = check(lambda: _integer(raw.get("price_cents"), "price_cents", minimum=0))
    category = check(lambda: _text(raw.get("category"), "category", required=False))
    if problems:
        raise ValueError("; ".join(problems))
    return CatalogRow(line=line, sku=str(sku), name=str(name), aliases=aliases, unit=str(unit), pack_size=pack_size,
                      price_cents=price, category=category)


def _validate_all(items: Iterable[tuple[int, Mapping[str, object] | str]], path: Path,
                  tick: Callable[[], None] | None) -> tuple[CatalogRow, ...]:
    """Rows (or, as a string, what is wrong with a line before its columns) checked in file order."""
    rows: list[CatalogRow] = []
    problems: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    for line, raw in items:
        if tick is not None:
            tick()
        if isinstance(raw, str):
            problems.append((line, raw))
            continue
        try:
            row = validate_row(line, raw)
        except ValueError as exc:
            problems.append((line, str(exc)))
            continue
        if row.sku in first_line:
            problems.append((line, f"duplicate sku {row.sku!r} (first on line {first_line[row.sku]})"))
            continue
        first_line[row.sku] = line
        rows.append(row)
    if problems:
        raise CatalogFileError(path, problems)
    if not rows:
        raise CatalogFileError(path, [(1, "no products")])
    return tuple(rows)


def _json_lines(text: str, count: int) -> list[int]:
    """The line each element of the products array starts on (element index + 1 when not found)."""
    match = _PRODUCTS_ARRAY.search(text)
    if match is None:
        return list(range(1, count + 1))
    decoder = json.JSONDecoder()
    lines, pos, line = [], match.end(), text.count("\n", 0, match.end()) + 1
    for _ in range(count):
        while pos < len(text) and text[pos] in " \t\r\n,":
            if text[pos] == "\n":
                line += 1
            pos += 1
        lines.append(line)
        _, end = decoder.raw_decode(text, pos)
        line += text.count("\n", pos, end)
        pos = end
    return lines


def read_json(path: Path, tick: Callable[[], None] | None = None) -> CatalogFile:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogFileError(path, [(exc.lineno, f"not JSON: {exc.msg}")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise CatalogFileError(path, [(1, 'expected {"distributor": {...}, "products": [...]}')])
    unknown = sorted(set(data) - {"distributor", "products"})
    if unknown:
        raise CatalogFileError(path, [(1, f"unknown key(s) {', '.join(unknown)}")])
    distributor = data.get("distributor")
    if distributor is not None and not isinstance(distributor, dict):
        raise CatalogFileError(path, [(1, "distributor must be an object")])
    products = data["products"]
    lines = _json_lines(text, len(products))
    items: list[tuple[int, Mapping[str, object] | str]] = []
    for line, product in zip(lines, products, strict=True):
        items.append((line, product if isinstance(product, dict) else f"a product is an object, got {product!r}"))
    return CatalogFile(distributor=distributor, rows=_validate_all(items, path, tick))


def read_csv(path: Path, tick: Callable[[], None] | None = None) -> CatalogFile:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise CatalogFileError(path, [(1, "empty file")])
        header = [h.strip() for h in header]
        problems = [(1, f"unknown column {h!r} (allowed: {', '.join(COLUMNS)})") for h in header if h not in COLUMNS]
        problems += [(1, f"missing column {c!r}") for c in REQUIRED if c not in header]
        problems += [(1, f"column {h!r} twice") for h in set(header) if header.count(h) > 1]
        if problems:
            raise CatalogFileError(path, problems)
        items: list[tuple[int, Mapping[str, object] | str]] = []
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                items.append((line, f"{len(values)} fields, the header has {len(header)}"))
                continue
            items.append((line, dict(zip(header, values, strict=True))))
    return CatalogFile(distributor=None, rows=_validate_all(items, path, tick))


def read_catalog_file(path: Path, tick: Callable[[], None] | None = None) -> CatalogFile:
    """JSON by its `.json` suffix, CSV otherwise (`.csv`)."""
    if path.suffix.lower() == ".json":
        return read_json(path, tick)
    if path.suffix.lower() == ".csv":
        return read_csv(path, tick)
    raise AdminError(f"{path}: a catalog is a .json or .csv file")


def count_rows(path: Path) -> int:
    """A cheap estimate of the rows (lines) in the file, for the progress bar."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


__all__ = ["COLUMNS", "CatalogFile", "CatalogFileError", "CatalogRow", "count_rows", "read_catalog_file", "read_csv",
           "read_json", "validate_row"]
