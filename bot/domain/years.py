"""Which year's register the bot serves: the working year stays open until the office closes it.

Rules (docs/RULES.md): a year's register is the working year from its import until the office
closes it (/closeyear, or the CLI's close-year). In January, with the year not closed, every
view, reminder and export still serves it and says which year it shows. The working year is
the oldest registered year still open; with every registered year closed (or none imported),
it is the calendar year. A closed year stays readable by naming it (/export 2026, /task 2026-6).
"""

from __future__ import annotations

from collections.abc import Iterable, Set


def working_year(registered: Iterable[int], closed: Set[int], today_year: int) -> int:
    """The year the bot serves by default."""
    open_years = sorted(y for y in registered if y not in closed)
    return open_years[0] if open_years else today_year


def open_years(registered: Iterable[int], closed: Set[int]) -> list[int]:
    """Registered years not closed, oldest first: the years whose reports are still chased."""
    return sorted(y for y in set(registered) if y not in closed)
