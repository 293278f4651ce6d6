"""Report speed at statewide scale: the engine against a plain DuckDB query and pandas.

Each side runs in its own child process (so its peak memory is its own), on the same store,
warm: every query runs a few times first, then ``repeats`` times; the figure is the median.
The plain queries are what an analyst would write by hand over the records Parquet files,
computing the same measures the engine publishes (counts, participation, mean and SD and
level counts per measure, domain levels).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from benchmarks import median_ms, peak_rss_mb
from benchmarks.store_size import size_line

QUERIES = {
    "a": "one LEA, yearly report by grade x ethnicity, all measures",
    "b": "statewide table: every LEA and every school, all students",
    "c": "one LEA, 8-year longitudinal",
    "d": "SSR status per LEA (statewide, as of a date)",
    "e": "ad hoc: one LEA by grade, custom subgroup (Hispanic, disadvantaged, female)",
}
STANDARD = ("a", "b", "c", "d")

def _measure_sql() -> str:
    """The measures the engine publishes, as an analyst would write them by hand."""
    scored = "include_indicator = 'Y'"
    parts = ["count(*) AS n_enrolled", "count(*) FILTER (WHERE is_tested) AS n_tested",
             f"count(*) FILTER (WHERE {scored}) AS n_scored",
             "count(*) FILTER (WHERE condition_code = 'NT') AS n_not_tested",
             "count(*) FILTER (WHERE attemptedness = 'P') AS n_partial",
             "count(*) FILTER (WHERE condition_code = 'EXD') AS n_exempt_domain"]
    for m in ("overall", "oral", "written"):
        parts += [f"count({m}_scale_score) FILTER (WHERE {scored}) AS {m}_n",
                  f"avg({m}_scale_score) FILTER (WHERE {scored}) AS {m}_mean",
                  f"stddev_samp({m}_scale_score) FILTER (WHERE {scored}) AS {m}_sd"]
        parts += [f"count(*) FILTER (WHERE {scored} AND {m}_level = {k}) AS {m}_l{k}"
                  for k in (1, 2, 3, 4)]
    for d in ("listening", "speaking", "reading", "writing"):
        parts.append(f"count({d}_level) FILTER (WHERE {scored}) AS {d}_n")
        parts += [f"count(*) FILTER (WHERE {scored} AND {d}_level = {k}) AS {d}_l{k}"
                  for k in (1, 2, 3)]
    return ",\n    ".join(parts)


_MEASURE_SQL = _measure_sql()


def _facts(store: str) -> dict[str, object]:
    """The largest LEA, the latest year and an as-of date, read once."""
    import polars as pl

    from data.results.store import Store

    st = Store(store)
    files = st.year_files()
    year = sorted(files)[-2]  # the last final year
    lea = (pl.scan_parquet(files[year]).group_by("reporting_lea_code").len()
           .sort("len", descending=True).collect().get_column("reporting_lea_code")[0])
    return {"year": year, "years": sorted(files), "lea": lea, "files": {
        y: str(p) for y, p in files.items()},
        "as_of": f"{int(year[:4]) + 1}-06-15"}


def _engine(store: str, facts: dict, repeats: int) -> dict[str, float]:
    from queries.longitudinal import read_longitudinal
    from queries.reports import read_report
    from queries.scope import Scope
    from queries.snapshot import Snapshot
    from queries.spec import ReportSpec, Subgroup
    from queries.ssr import read_ssr_status

    snap = Snapshot(store)
    scope = Scope.state()
    year, lea = facts["year"], facts["lea"]
    grades = ("KN", *[f"{g:02d}" for g in range(1, 13)], "13")
    leas = tuple(snap.orgs_of([year]).filter(snap.orgs_of([year])["org_level"] == "lea")
                 .get_column("lea_code").to_list())
    specs = {
        "a": ReportSpec(years=(year,), orgs=(lea,), org_level="lea", grades=grades,
                        breakdown="ethnicity"),
        "b": ReportSpec(years=(year,), orgs=leas, org_level="lea", expand="schools_of_leas"),
        "c": ReportSpec(years=tuple(facts["years"]), orgs=(lea,), org_level="lea",
                        longitudinal=True),
        "e": ReportSpec(years=(year,), orgs=(lea,), org_level="lea", breakdown="grade",
                        subgroups=(Subgroup("Hispanic, disadvantaged girls", (
                            ("ethnicity", ("078",)), ("economic", ("031",)),
                            ("gender", ("004",)))),)),
    }
    as_of = date.fromisoformat(facts["as_of"])
    runs = {
        "a": lambda: read_report(snap, specs["a"], scope=scope, suppress=True),
        "b": lambda: read_report(snap, specs["b"], scope=scope, suppress=True),
        "c": lambda: read_longitudinal(snap, specs["c"], scope=scope, suppress=True),
        "d": lambda: read_ssr_status(snap, year=year, as_of=as_of, scope=scope, by="lea"),
        "e": lambda: read_report(snap, specs["e"], scope=scope, suppress=True),
    }
    return {k: median_ms(fn, repeats) for k, fn in runs.items()}


def _duckdb(store: str, facts: dict, repeats: int) -> dict[str, float]:
    import duckdb

    con = duckdb.connect()
    con.sql("SET parquet_metadata_cache = true")
    year_file = facts["files"][facts["year"]]
    all_files = list(facts["files"].values())
    lea = facts["lea"]
    q = {
        "a": (f"SELECT grade_assessed, ethnicity, {_MEASURE_SQL} FROM read_parquet(?) "
              "WHERE reporting_lea_code = ? AND record_type = '21' "
              "GROUP BY GROUPING SETS ((grade_assessed, ethnicity), (grade_assessed), "
              "(ethnicity), ())", [year_file, lea]),
        "b": (f"SELECT reporting_lea_code, reporting_school_code, {_MEASURE_SQL} "
              "FROM read_parquet(?) WHERE record_type = '21' GROUP BY GROUPING SETS "
              "((reporting_lea_code), (reporting_lea_code, reporting_school_code))",
              [year_file]),
        "c": (f"SELECT school_year, {_MEASURE_SQL} FROM read_parquet(?, "
              "hive_partitioning = true) WHERE reporting_lea_code = ? AND record_type = '21' "
              "GROUP BY school_year", [all_files, lea]),
        "d": ("SELECT enrolled_lea_code, count(*) AS n_eligible, count(*) FILTER (WHERE "
              "ssr_available_date <= ?::DATE) AS n_released, count(*) FILTER (WHERE "
              "ssr_languages <> 'ENG') AS n_primary FROM read_parquet(?) WHERE is_ssr_eligible "
              "AND record_type = '21' GROUP BY enrolled_lea_code", [facts["as_of"], year_file]),
        "e": (f"SELECT grade_assessed, {_MEASURE_SQL} FROM read_parquet(?) "
              "WHERE reporting_lea_code = ? AND record_type = '21' AND ethnicity = '500' "
              "AND is_economically_disadvantaged AND gender = 'F' "
              "GROUP BY GROUPING SETS ((grade_assessed), ())", [year_file, lea]),
    }
    # The SQL texts above are constants of this benchmark; values are bound parameters.
    return {k: median_ms(lambda sql=sql, p=p: con.sql(sql, params=p).fetchall(), repeats)
            for k, (sql, p) in q.items()}


def _pandas(store: str, facts: dict, repeats: int) -> dict[str, float]:
    import pandas as pd

    year_file = facts["files"][facts["year"]]
    lea = facts["lea"]
    cols = ["record_type", "grade_assessed", "ethnicity", "is_tested", "include_indicator",
            "overall_scale_score", "overall_level", "oral_scale_score", "oral_level",
            "written_scale_score", "written_level", "listening_level", "reading_level",
            "gender", "is_economically_disadvantaged", "reporting_lea_code",
            "reporting_school_code"]

    def measures(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        scored = df[df["include_indicator"] == "Y"]
        out = df.groupby(keys, dropna=False).agg(n_enrolled=("record_type", "size"),
                                                 n_tested=("is_tested", "sum"))
        s = scored.groupby(keys, dropna=False)
        out = out.join(s.agg(n_scored=("record_type", "size"),
                             overall_mean=("overall_scale_score", "mean"),
                             overall_sd=("overall_scale_score", "std"),
                             oral_mean=("oral_scale_score", "mean"),
                             written_mean=("written_scale_score", "mean")))
        for m in ("overall", "oral", "written", "listening", "reading"):
            out = out.join(pd.crosstab([scored[k] for k in keys], scored[f"{m}_level"])
                           .add_prefix(f"{m}_l"))
        return out

    def lea_rows(files: str | list[str]) -> pd.DataFrame:
        return pd.read_parquet(files, columns=cols, filters=[("reporting_lea_code", "==", lea),
                                                              ("record_type", "==", "21")])

    def a() -> object:
        df = lea_rows(year_file)
        return measures(df, ["grade_assessed", "ethnicity"])

    def b() -> object:
        df = pd.read_parquet(year_file, columns=cols, filters=[("record_type", "==", "21")])
        return (measures(df, ["reporting_lea_code"]),
                measures(df, ["reporting_lea_code", "reporting_school_code"]))

    def c() -> object:
        frames = [lea_rows(f).assign(school_year=y) for y, f in facts["files"].items()]
        return measures(pd.concat(frames), ["school_year"])

    def d() -> object:
        df = pd.read_parquet(year_file, columns=["enrolled_lea_code", "is_ssr_eligible",
                                                 "ssr_available_date", "ssr_languages",
                                                 "record_type"],
                             filters=[("record_type", "==", "21")])
        df = df[df["is_ssr_eligible"].fillna(False).astype(bool)]
        released = pd.to_datetime(df["ssr_available_date"]) <= pd.Timestamp(facts["as_of"])
        return df.assign(released=released).groupby("enrolled_lea_code").agg(
            n=("record_type", "size"), released=("released", "sum"))

    def e() -> object:
        df = lea_rows(year_file)
        df = df[(df["ethnicity"] == "500") & df["is_economically_disadvantaged"].fillna(False)
                .astype(bool) & (df["gender"] == "F")]
        return measures(df, ["grade_assessed"])

    return {k: median_ms(fn, repeats) for k, fn in {"a": a, "b": b, "c": c, "d": d, "e": e}.items()}


def _child(kind: str, store: str, facts: dict, repeats: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.queries", kind, store,
                          json.dumps(facts), str(repeats)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_queries(store: str, repeats: int = 20) -> list[str]:
    """Run the five queries on the three sides; return the table and the summary line."""
    facts = _facts(store)
    results = {kind: _child(kind, store, facts, repeats) for kind in ("engine", "duckdb",
                                                                      "pandas")}
    lines = [f"queries on {store}: {facts['year']}, largest LEA {facts['lea']}, warm medians "
             f"of {repeats}",
             f"{'':3}{'query':<78}{'engine':>9}{'duckdb':>9}{'pandas':>9}{'x duckdb':>10}"
             f"{'x pandas':>10}"]
    worst = float("inf")
    for key, text in QUERIES.items():
        e, d, p = (results[k]["ms"][key] for k in ("engine", "duckdb", "pandas"))
        worst = min(worst, d / e)
        lines.append(f"({key}) {text:<76}{e:>7.2f}ms{d:>7.2f}ms{p:>7.1f}ms{d / e:>9.2f}x"
                     f"{p / e:>9.1f}x")
    lines.append("peak RSS: " + ", ".join(f"{k} {v['max_rss_mb']:,.0f} MB"
                                          for k, v in results.items()))
    lines.append(size_line(store))
    lines.append(f"worst ratio vs duckdb: {worst:.2f}")
    return lines


if __name__ == "__main__":
    kind, store_dir, facts_json, n = sys.argv[1:5]
    runner = {"engine": _engine, "duckdb": _duckdb, "pandas": _pandas}[kind]
    ms = runner(store_dir, json.loads(facts_json), int(n))
    print(json.dumps({"ms": ms,
                      "max_rss_mb": peak_rss_mb()}))
