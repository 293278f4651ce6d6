"""Synthetic California geography for the demo: counties, LEAs and schools.

LEAs are districts and direct-funded charters, with skewed sizes (ELPAC.md §6).

All names except the 58 county names are invented. Codes follow the CDS pattern: county (2) +
district (5) + school (7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from data.domain import COUNTIES

# Rough share of the state's English learners per county (invented but shaped like the real
# spread: Los Angeles far ahead, then the big southern and Central Valley counties).
_COUNTY_WEIGHT = {
    "Los Angeles": 26, "Orange": 8, "San Diego": 7, "Riverside": 7, "San Bernardino": 7,
    "Santa Clara": 5, "Fresno": 4, "Kern": 4, "Sacramento": 3.5, "Alameda": 3.5,
    "San Joaquin": 2.5, "Tulare": 2.5, "Monterey": 2, "Ventura": 2, "Contra Costa": 2,
    "Stanislaus": 1.8, "San Mateo": 1.3, "Merced": 1.2, "Santa Barbara": 1.2, "Imperial": 1,
    "San Francisco": 1, "Sonoma": 0.9, "Madera": 0.6, "Kings": 0.5, "Solano": 0.6,
    "Santa Cruz": 0.5, "Yolo": 0.4, "San Benito": 0.2, "Placer": 0.3, "Napa": 0.3,
    "Sutter": 0.3, "Butte": 0.2, "San Luis Obispo": 0.2, "Yuba": 0.15, "Marin": 0.2,
    "Colusa": 0.1, "Glenn": 0.08, "Mendocino": 0.1, "Lake": 0.06, "Humboldt": 0.05,
    "Shasta": 0.05, "El Dorado": 0.08, "Tehama": 0.06, "Nevada": 0.03, "Inyo": 0.02,
    "Mono": 0.02, "Del Norte": 0.02, "Calaveras": 0.01, "Amador": 0.01, "Tuolumne": 0.01,
    "Siskiyou": 0.01, "Mariposa": 0.005, "Lassen": 0.005, "Plumas": 0.003, "Trinity": 0.002,
    "Modoc": 0.002, "Sierra": 0.001, "Alpine": 0.001,
}

_PLACE_A = ("Oak", "Pine", "Cedar", "Willow", "Maple", "Sage", "Laurel", "Mesa", "Vista", "Sierra",
            "Palm", "Harbor", "River", "Lake", "Valley", "Canyon", "Bay", "Summit", "Meadow",
            "Sunset", "Golden", "Arroyo", "Coral", "Granite", "Hill", "Sand", "Rose", "Elm",
            "Aspen", "Redwood", "Alder", "Poppy", "Orchard", "Mission", "Pacific", "Bear",
            "Eagle", "Falcon", "Quail", "Fox", "Lupine", "Juniper", "Manzanita", "Buena",
            "Rancho", "Costa", "Loma", "Prado", "Vega", "Campo")
_PLACE_B = ("wood", "dale", "field", "view", "crest", "brook", "ridge", "mont", "haven", "side",
            "port", "ton", "land", "glen", "ford", "springs", " Grove", " Park", " Heights",
            " Flats", " Creek", " Point", " Gardens", " Hills", " Acres", " Plains", " Valley",
            " Oaks", " Terrace", " Landing")
_PERSON = ("Lincoln", "Roosevelt", "Chavez", "Huerta", "Kennedy", "Washington", "Jefferson",
           "King", "Muir", "Earhart", "Ride", "Mendez", "Tubman", "Parks", "Franklin", "Adams",
           "Madison", "Monroe", "Jackson", "Garfield", "Hoover", "Carver", "Keller", "Steinbeck",
           "London", "Twain", "Serra", "Portola", "Anza", "Cabrillo")

GRADE_NUMBERS = tuple(range(13))  # 0 = KN


@dataclass
class Places:
    """Counties, LEAs and schools of a synthetic state."""

    leas: pl.DataFrame
    """lea_index, county_code, district_code (7), lea_code (14), lea_name, lea_type, is_df_charter,
    charter_code, share, lo, hi."""
    schools: pl.DataFrame
    """school_index, lea_index, school_code (14), school_name, lo, hi, weight, is_nps,
    charter_indicator, charter_code."""


def _names(rng: np.random.Generator, n: int, suffixes: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        a = _PLACE_A[rng.integers(len(_PLACE_A))] + _PLACE_B[rng.integers(len(_PLACE_B))]
        name = f"{a} {suffixes[rng.integers(len(suffixes))]}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def build_places(rng: np.random.Generator, n_students: int) -> Places:
    """About one LEA per 1,200 students (1,000 at statewide scale) and ten schools per LEA."""
    n_leas = int(np.clip(n_students // 1200, 12, 1000))
    weights = np.array([_COUNTY_WEIGHT[c] for c in COUNTIES])
    # Every county gets an LEA when there are enough; the rest follow the EL population.
    base = np.ones(58, dtype=int) if n_leas >= 116 else np.zeros(58, dtype=int)
    extra = rng.multinomial(n_leas - base.sum(), weights / weights.sum())
    per_county = base + extra
    county_of = np.repeat(np.arange(1, 59), per_county)
    # Skewed sizes: lognormal, then the largest LEA (in Los Angeles) set to 8 % of students.
    size = rng.lognormal(0.0, 1.35, n_leas) * weights[county_of - 1] / per_county[county_of - 1]
    share = size / size.sum()
    la = np.flatnonzero(county_of == 19)
    biggest = la[np.argmax(share[la])] if la.size else int(np.argmax(share))
    share[biggest] = 0.0
    share = share / share.sum() * 0.92
    share[biggest] = 0.08
    kind_draw = rng.random(n_leas)
    lea_type = np.where(kind_draw < 0.08, "charter",
                        np.where(kind_draw < 0.43, "unified",
                                 np.where(kind_draw < 0.92, "elementary", "high")))
    lea_type[biggest] = "unified"
    share = _capped(share, lea_type, biggest)
    lo = np.select([lea_type == "high", lea_type == "charter"], [9, 0], 0)
    hi = np.select([lea_type == "elementary", lea_type == "charter"], [8, 8], 12)
    charter_hs = (lea_type == "charter") & (rng.random(n_leas) < 0.3)
    lo = np.where(charter_hs, 9, lo)
    hi = np.where(charter_hs, 12, hi)
    district_codes = np.empty(n_leas, dtype=np.int64)
    for c in range(1, 59):
        idx = np.flatnonzero(county_of == c)
        district_codes[idx] = rng.choice(np.arange(61000, 77000), idx.size, replace=False)
    suffix = {"unified": ("Unified",), "elementary": ("Elementary", "Union Elementary"),
              "high": ("Union High",), "charter": ("Charter Academy", "Preparatory Charter")}
    names = _names(rng, n_leas, ("Unified",))
    lea_names = [n.rsplit(" ", 1)[0] + " " + suffix[t][rng.integers(len(suffix[t]))]
                 for n, t in zip(names, lea_type, strict=True)]
    charter_codes = rng.choice(np.arange(100, 9999), n_leas + 2000, replace=False)
    n_schools = np.maximum(1, np.round(share * n_leas * 10)).astype(int)
    n_schools[lea_type == "charter"] = 1
    school_rows = _schools(rng, county_of, district_codes, lea_type, lo, hi, n_schools,
                           charter_codes[n_leas:])
    lea_school_code = {}
    for r in school_rows:
        lea_school_code.setdefault(r["lea_index"], r["school_code"])
    leas = pl.DataFrame({
        "lea_index": np.arange(n_leas),
        "county_code": [f"{c:02d}" for c in county_of],
        "district_code": [f"{c:02d}{d:05d}" for c, d in zip(county_of, district_codes,
                                                             strict=True)],
        "lea_name": lea_names,
        "lea_type": lea_type,
        "share": share,
        "lo": lo, "hi": hi,
        "charter_code": [f"{charter_codes[i]:04d}" if t == "charter" else None
                         for i, t in enumerate(lea_type)],
    }).with_columns(
        pl.when(pl.col("lea_type") == "charter")
        .then(pl.Series([lea_school_code[i] for i in range(n_leas)]))
        .otherwise(pl.col("district_code") + "0000000").alias("lea_code"),
        (pl.col("district_code") + "0000000").alias("district_cds"),
    )
    return Places(leas, pl.DataFrame(school_rows))


def _capped(share: np.ndarray, lea_type: np.ndarray, biggest: int) -> np.ndarray:
    """Shares with no LEA but the biggest swamping the rest.

    With few LEAs (a small demo) one lognormal draw can take a third of the students, and a
    direct-funded charter (one school) can become the largest LEA. A district keeps at most
    2.5 times the mean share (3 % at least), a charter the mean share (0.3 % at least); the
    excess goes to the LEAs under their cap, in proportion.
    """
    mean = share.sum() / share.size
    cap = np.where(lea_type == "charter", max(0.003, mean), max(0.03, 2.5 * mean))
    out = share.copy()
    for _ in range(100):
        over = out > cap
        over[biggest] = False
        if not over.any():
            break
        excess = float((out[over] - cap[over]).sum())
        out[over] = cap[over]
        room = ~over & (out < cap)
        room[biggest] = False
        out[room] += excess * out[room] / out[room].sum()
    return out


def _schools(rng: np.random.Generator, county_of: np.ndarray, district_codes: np.ndarray,
             lea_type: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_schools: np.ndarray,
             charter_codes: np.ndarray) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    used: set[int] = set()
    next_charter = 0

    def code() -> int:
        while True:
            c = int(rng.integers(100000, 9999999))
            if c not in used:
                used.add(c)
                return c

    for i in range(len(county_of)):
        spans: list[tuple[int, int]] = []
        n = int(n_schools[i])
        if lea_type[i] == "charter":
            spans = [(int(lo[i]), int(hi[i]))]
        elif lea_type[i] == "high":
            spans = [(9, 12)] * n
        else:
            n_mid = max(1, n // 5)
            n_high = max(1, n // 5) if lea_type[i] == "unified" else 0
            n_elem = max(1, n - n_mid - n_high)
            spans = [(0, 5)] * n_elem + [(6, 8)] * n_mid + [(9, 12)] * n_high
        for lo_g, hi_g in spans:
            kind = {0: "Elementary", 6: "Middle", 9: "High"}.get(lo_g, "Academy")
            person = _PERSON[rng.integers(len(_PERSON))]
            charter = None
            if lea_type[i] == "charter":
                charter = "DF"
            elif rng.random() < 0.04:
                charter = "LF"
            rows.append({
                "lea_index": i, "lo": lo_g, "hi": hi_g, "is_nps": False,
                "school_code": f"{county_of[i]:02d}{district_codes[i]:05d}{code():07d}",
                "school_name": f"{person} {kind}" if charter is None else f"{person} {kind} "
                               "Charter",
                "weight": float(rng.lognormal(0, 0.6)),
                "charter_indicator": charter,
                "charter_code": f"{charter_codes[next_charter]:04d}" if charter else None,
            })
            if charter:
                next_charter += 1
        if lea_type[i] != "charter" and n >= 4:
            # A nonpublic school the district places students in (ELPAC.md §3.3 rule 6).
            rows.append({"lea_index": i, "lo": 0, "hi": 12, "is_nps": True,
                         "school_code": f"{county_of[i]:02d}{district_codes[i]:05d}{code():07d}",
                         "school_name": f"{_PLACE_A[rng.integers(len(_PLACE_A))]} Learning "
                                        "Center (NPS)",
                         "weight": 0.0, "charter_indicator": None, "charter_code": None})
    for k, r in enumerate(rows):
        r["school_index"] = k
    return rows
