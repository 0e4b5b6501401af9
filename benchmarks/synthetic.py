"""Realistic synthetic LGO decisions for benchmarks, made from the bundled ones.

Each decision gets its own council, reference, date, outcome and subcategory, and sections filled
with paragraphs of the same kind taken from the bundled decisions and varied: names, amounts and
years change, a sentence may go, and a dated detail makes every paragraph unique, except the
role-and-powers boilerplate, which the Ombudsman repeats word for word.  The text is written in
the numbered layout of the LGO website, so the real parser reads it.  `source_of` maps each
paragraph's opening to the bundled paragraph it came from, so a benchmark can give it a realistic
vector without paying for an embedding.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rag.parse import parse_decision

COUNCILS = """Barnsley Metropolitan Borough Council|Birmingham City Council|Bristol City Council|
Buckinghamshire Council|Cambridgeshire County Council|Cheshire East Council|Cornwall Council|
Cumberland Council|Derbyshire County Council|Devon County Council|Dorset Council|Durham County Council|
East Sussex County Council|Essex County Council|Gloucestershire County Council|Hampshire County Council|
Hertfordshire County Council|Kent County Council|Kirklees Council|Lancashire County Council|
Leeds City Council|Leicestershire County Council|Lincolnshire County Council|Liverpool City Council|
London Borough of Camden|London Borough of Croydon|London Borough of Hackney|London Borough of Lambeth|
Manchester City Council|Norfolk County Council|North Yorkshire Council|Northumberland County Council|
Nottinghamshire County Council|Oxfordshire County Council|Sheffield City Council|Shropshire Council|
Somerset Council|Staffordshire County Council|Suffolk County Council|Surrey County Council|
Warwickshire County Council|West Sussex County Council|Wiltshire Council|Worcestershire County Council""".replace(
    "\n", "").split("|")
SUBCATEGORIES = ["Child protection", "Disabled children", "Fostering", "Friends and family carers",
                 "Looked after children", "Special guardianship", "Adoption", "Other"]
OUTCOMES = [("Upheld", 5), ("Not upheld", 3), ("Closed after initial enquiries", 2)]
SECTIONS = [  # (heading, kind, how many paragraphs: low, high)
    ("The complaint", "complaint", 1, 3),
    ("The Ombudsman’s role and powers", "powers", 2, 4),
    ("How I considered this complaint", "method", 1, 2),
    ("What I found", "findings", 6, 22),
    ("Agreed action", "remedy", 0, 4),
    ("Final decision", "decision", 1, 2),
]
PEOPLE = ["Mr X", "Mrs X", "Ms X", "Mr Y", "Mrs Y", "Ms Y", "Mr Z", "Mrs Z", "Ms B", "Mr C", "Mrs D"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
DETAILS = ["The records show a note made on {d}.", "A further meeting took place on {d}.",
           "The Council wrote again on {d}.", "This was confirmed in an email of {d}.",
           "The case file was reviewed on {d}.", "A manager discussed the case on {d}."]
_PERSON = re.compile(r"\b(Mr|Mrs|Ms|Miss) [A-Z]\b")
_MONEY = re.compile(r"£(\d[\d,]*)")
_YEAR = re.compile(r"\b(20[12]\d)\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class Pool:
    """Paragraphs of the bundled decisions by section kind, and their summaries."""

    by_kind: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    summaries: list[str] = field(default_factory=list)


def load_pool(folder: Path) -> Pool:
    pool = Pool()
    for path in sorted(folder.glob("*.txt")):
        decision = parse_decision(path.read_text(encoding="utf-8"), source=path.name)
        for p in decision.paragraphs:
            kind = p.section_kind if p.section_kind in {k for _, k, _, _ in SECTIONS} else "findings"
            pool.by_kind[kind].append((f"{decision.ref}:{p.number}", p.text))
        if decision.summary:
            pool.summaries.append(decision.summary)
    return pool


class Generator:
    """Makes `count` decisions, deterministic for a given seed."""

    def __init__(self, pool: Pool, seed: int = 7) -> None:
        self.pool = pool
        self.rng = random.Random(seed)
        self.source_of: dict[str, str] = {}  # paragraph opening -> bundled paragraph key
        self._serial = 0

    def _date(self, year: int) -> dt.date:
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def _vary(self, text: str, person: str, year: int) -> str:
        text = _PERSON.sub(person, text)
        text = _MONEY.sub(lambda m: f"£{self.rng.choice([100, 150, 200, 250, 300, 500, 750, 1000]):,}", text)
        text = _YEAR.sub(lambda m: str(year - self.rng.randrange(3)), text)
        sentences = _SENTENCE.split(text)
        if len(sentences) > 2 and self.rng.random() < 0.4:
            sentences.pop(self.rng.randrange(1, len(sentences)))
        d = self._date(year - 1)
        detail = self.rng.choice(DETAILS).format(d=f"{d.day} {MONTHS[d.month - 1]} {d.year}")
        sentences.insert(self.rng.randrange(1, len(sentences) + 1), detail)
        return " ".join(sentences)

    def _paragraph(self, kind: str, person: str, year: int) -> str:
        candidates = self.pool.by_kind.get(kind) or self.pool.by_kind["findings"]
        key, text = self.rng.choice(candidates)
        if kind == "powers":  # the role-and-powers boilerplate is published word for word
            out = text.replace("\n", " ")
            self.source_of[out[:80]] = key
            return out
        out = self._vary(text, person, year).replace("\n", " ")
        self.source_of[out[:80]] = key
        return out

    def decision(self) -> tuple[str, str]:
        """(file name, text) of one new decision."""
        self._serial += 1
        yy = self.rng.randrange(18, 26)
        ref = f"{yy} {self._serial // 1000 % 1000:03d} {self._serial % 1000:03d}"
        year = 2000 + yy + self.rng.randrange(2)
        outcome = self.rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        person = self.rng.choice(PEOPLE)
        decided = self._date(min(year, 2026))
        lines = [f"{self.rng.choice(COUNCILS)} ({ref})", "",
                 f"Category : Children's care services > {self.rng.choice(SUBCATEGORIES)}", "",
                 f"Decision : {outcome}", "", f"Decision date : {decided.day} {MONTHS[decided.month - 1][:3]} "
                 f"{decided.year}", "", "The Ombudsman's final decision:", "",
                 f"Summary: {self._vary(self.rng.choice(self.pool.summaries), person, year)}", ""]
        for heading, kind, low, high in SECTIONS:
            if kind == "remedy" and outcome != "Upheld":
                continue
            count = max(1, self.rng.randint(low, high))
            lines += [heading, ""]
            lines += [f"  {n}. {self._paragraph(kind, person, year)}" for n in range(1, count + 1)]
            lines += ["", "Back to top", ""]
        return f"{ref.replace(' ', '-')}.txt", "\n".join(lines)


def write_corpus(folder: Path, count: int, pool_dir: Path, seed: int = 7) -> Generator:
    """Write `count` synthetic decisions into `folder`; the generator keeps their sources."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = Generator(load_pool(pool_dir), seed)
    for _ in range(count):
        name, text = generator.decision()
        (folder / name).write_text(text, encoding="utf-8")
    return generator
