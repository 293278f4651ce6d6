"""Synthetic English learners: names, languages and linked demographics (invented people).

Primary languages follow the shape of California's EL population (mostly Spanish), and
ethnicity, economic status and names are drawn given the language, so groups are linked the
way they are in real data.
"""

from __future__ import annotations

import numpy as np

# (CEDS code, CALPADS numeric code, weight, ethnicity code, name group)
LANGUAGES = (
    ("SPA", "01", 81.0, "500", "es"), ("VIE", "02", 2.3, "200", "vi"),
    ("CMN", "07", 2.2, "200", "zh"), ("ARA", "11", 1.6, "700", "ar"),
    ("TGL", "05", 1.3, "400", "fil"), ("YUE", "03", 1.0, "200", "zh"),
    ("KOR", "04", 0.8, "200", "ko"), ("PAN", "28", 0.9, "200", "pa"),
    ("RUS", "29", 0.7, "700", "ru"), ("HMN", "21", 0.6, "200", "hm"),
    ("PES", "10", 0.6, "700", "ar"), ("POR", "08", 0.4, "700", "es"),
    ("JPN", "06", 0.3, "200", "ja"), ("HIN", "47", 0.4, "200", "pa"),
    ("ENG", "00", 0.5, "800", "en"), ("OTH", "99", 4.7, "800", "en"),
)

FIRST = {
    "es": (("Sofia", "Camila", "Valentina", "Isabella", "Ximena", "Mia", "Lucia", "Daniela",
            "Mariana", "Guadalupe", "Ana", "Natalia", "Andrea", "Fernanda", "Paola"),
           ("Santiago", "Mateo", "Diego", "Jose", "Luis", "Miguel", "Angel", "Carlos", "Juan",
            "Emiliano", "Sebastian", "Adrian", "Jesus", "Alejandro", "Leonardo")),
    "vi": (("Linh", "Anh", "Thao", "Ngoc", "Mai", "Trang"), ("Minh", "Huy", "Khoa", "Bao",
                                                             "Duc", "Quang")),
    "zh": (("Mei", "Xin", "Yan", "Jing", "Hui", "Ling"), ("Wei", "Jun", "Hao", "Ming", "Lei",
                                                          "Chen")),
    "ar": (("Layla", "Noor", "Mariam", "Yasmin", "Sara", "Huda"), ("Omar", "Ali", "Yusuf",
                                                                    "Karim", "Samir", "Hadi")),
    "fil": (("Maria", "Andrea", "Kristine", "Angelica", "Joy", "Bea"), ("Jose", "Mark", "Paolo",
                                                                         "Miguel", "Rafael",
                                                                         "Carlo")),
    "ko": (("Jiwoo", "Seoyeon", "Minji", "Hayun"), ("Minjun", "Seojun", "Jihoon", "Dohyun")),
    "pa": (("Simran", "Harleen", "Priya", "Navneet"), ("Arjun", "Gurpreet", "Harpreet",
                                                       "Rohan")),
    "ru": (("Anastasia", "Daria", "Polina", "Alina"), ("Artem", "Maksim", "Ivan", "Nikita")),
    "hm": (("Mai", "Pa", "Nou", "Kia"), ("Tou", "Kou", "Pao", "Vang")),
    "ja": (("Yui", "Hina", "Sakura", "Aoi"), ("Haruto", "Sota", "Ren", "Yuto")),
    "en": (("Emma", "Olivia", "Ava", "Amara", "Zara", "Nia"), ("Liam", "Noah", "Elijah",
                                                              "Kofi", "Amir", "Ethan")),
}
LAST = {
    "es": ("Garcia", "Hernandez", "Lopez", "Martinez", "Gonzalez", "Rodriguez", "Perez",
           "Sanchez", "Ramirez", "Flores", "Cruz", "Torres", "Reyes", "Morales", "Gutierrez",
           "Ortiz", "Chavez", "Ruiz", "Mendoza", "Castillo", "Vargas", "Jimenez", "Moreno",
           "Alvarez", "Romero"),
    "vi": ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang"),
    "zh": ("Wang", "Li", "Zhang", "Liu", "Chen", "Huang", "Wong", "Lam"),
    "ar": ("Haddad", "Khalil", "Hassan", "Nasser", "Saleh", "Mansour", "Karimi", "Rahimi"),
    "fil": ("Santos", "Reyes", "Bautista", "Dela Cruz", "Mendoza", "Garcia", "Aquino"),
    "ko": ("Kim", "Lee", "Park", "Choi", "Jung"),
    "pa": ("Singh", "Kaur", "Sandhu", "Gill", "Dhillon", "Patel", "Sharma"),
    "ru": ("Ivanov", "Petrov", "Smirnova", "Kuznetsov", "Popova"),
    "hm": ("Vang", "Xiong", "Thao", "Lee", "Yang", "Moua"),
    "ja": ("Sato", "Suzuki", "Takahashi", "Tanaka"),
    "en": ("Okafor", "Mensah", "Smith", "Brown", "Haile", "Tesfaye", "Diallo"),
}
_MIDDLE = ("", "", "", "A", "B", "C", "D", "E", "J", "M", "R", "S")


def draw_languages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Index into ``LANGUAGES`` for each of ``n`` students."""
    w = np.array([lang[2] for lang in LANGUAGES])
    return rng.choice(len(LANGUAGES), size=n, p=w / w.sum())


NAMES: tuple[str, ...] = tuple(sorted(
    {n for group in LAST.values() for n in group}
    | {n for pair in FIRST.values() for group in pair for n in group} | set(_MIDDLE)))
"""Every name the generator uses; students hold indices into it (cheap to carry and gather)."""
_NAME_INDEX = {name: i for i, name in enumerate(NAMES)}


def draw_names(rng: np.random.Generator, lang_index: np.ndarray, female: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Last, first and middle names (indices into ``NAMES``) matching the language's group."""
    n = len(lang_index)
    last = np.empty(n, dtype=np.int32)
    first = np.empty(n, dtype=np.int32)
    groups = np.array([lang[4] for lang in LANGUAGES])[lang_index]
    for group in np.unique(groups):
        sel = groups == group
        lasts = np.array([_NAME_INDEX[x] for x in LAST[group]])
        last[sel] = lasts[rng.integers(len(lasts), size=sel.sum())]
        for is_female in (True, False):
            both = sel & (female == is_female)
            firsts = np.array([_NAME_INDEX[x] for x in FIRST[group][0 if is_female else 1]])
            first[both] = firsts[rng.integers(len(firsts), size=both.sum())]
    middles = np.array([_NAME_INDEX[x] for x in _MIDDLE])
    return last, first, middles[rng.integers(len(_MIDDLE), size=n)]


def draw_ethnicity(rng: np.random.Generator, lang_index: np.ndarray) -> np.ndarray:
    """Reporting ethnicity code, mostly the one linked to the language (ELPAC.md §3.2, 53)."""
    linked = np.array([entry[3] for entry in LANGUAGES])[lang_index]
    other = rng.choice(["500", "200", "700", "400", "600", "800", "100", "300"], len(lang_index),
                       p=[0.35, 0.2, 0.15, 0.05, 0.1, 0.1, 0.03, 0.02])
    return np.where(rng.random(len(lang_index)) < 0.93, linked, other)
