"""``elpac ssr-delivery``: imports refused per row, coverage, the unreached list, resolving."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from typer.testing import CliRunner

from elpac.cli import app

if TYPE_CHECKING:
    from pathlib import Path

    from data.results.store import Store

YEAR = "2025-26"
LEA = "19619690000000"


def run(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ssr-delivery", *args, "--store", str(store.path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result.exit_code, result.output


def test_import_list_and_resolve(store_copy: Store, tmp_path: Path) -> None:
    kids = pl.read_parquet(store_copy.year_files()[YEAR]).filter(
        (pl.col("record_type") == "21") & pl.col("is_ssr_eligible").fill_null(False)
        & (pl.col("enrolled_lea_code") == LEA) & pl.col("ssr_available_date").is_not_null()
    ).sort("ssid").get_column("ssid").to_list()
    sent = tmp_path / "sent.csv"
    sent.write_text(f"ssid,school_year,method,date\n{kids[0]},{YEAR},email,2026-06-15\n")
    assert run(store_copy, "import-deliveries", str(sent))[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("ssid,school_year,kind,date,detail\n"
                   f"{kids[0]},{YEAR},bounced,2026-06-16,mailbox full\n"
                   f"{kids[1]},{YEAR},lost,2026-06-16,\n")
    code, out = run(store_copy, "import-failures", str(bad))
    assert code == 1
    assert "row 3" in out
    assert "kind" in out
    good = tmp_path / "back.csv"
    good.write_text("ssid,school_year,kind,date,detail\n"
                    f"{kids[0]},{YEAR},bounced,2026-06-16,mailbox full\n")
    assert run(store_copy, "import-failures", str(good))[0] == 0
    listed = tmp_path / "waiting.csv"
    code, out = run(store_copy, "unreached", "--year", YEAR, "-o", str(listed))
    assert code == 0, out
    waiting = pl.read_csv(listed, infer_schema=False)
    bounced = waiting.filter(pl.col("ssid") == kids[0]).row(0, named=True)
    assert bounced["status"] == "bounced"
    code, out = run(store_copy, "resolve", bounced["open_failure_id"])
    assert (code, out.strip()) == (0, f"bounce or return {bounced['open_failure_id']} "
                                      "marked resolved")
    run(store_copy, "unreached", "--year", YEAR, "-o", str(listed))
    assert kids[0] not in set(pl.read_csv(listed, infer_schema=False).get_column("ssid"))
    code, out = run(store_copy, "coverage", "--year", YEAR)
    assert code == 0
    assert out.splitlines()[-1].startswith("Total")
