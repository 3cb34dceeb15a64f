"""Regular-expression pieces shared by the recognizers of named places: schools, clubs, streets.

A proper name here is one to four capitalised words, optionally after "De"/"Het".
"""

from __future__ import annotations

CAP = r"[A-ZÀ-ÖØ-Þ][\w'’&]*(?:-[A-Za-zÀ-ÿ][\w'’]*)*"
NAME = rf"(?:(?:De|Het|'t|de|het)\s+)?{CAP}(?:\s+{CAP}){{0,2}}"
YEAR_SUFFIX = r"(?:\s+'\d{2})?"
