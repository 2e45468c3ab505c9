"""Use cases: functions taking a session and plain values, returning results without Telegram.

Handlers parse an update, call one of these and render what it returns; jobs decide when to
call them. They may import the domain (`bot.*` pure modules) and `db`, never `telegram`,
`handlers` or `jobs`.
"""

import sys

# openpyxl (the ledger, bot.services.workbook) imports numpy and Pillow whenever they are
# installed, for numpy cell values and images the ledger never writes. They are installed for
# the chart renderer (bot.charts), a process of its own; in the bot's they would cost ~17 MB.
# So openpyxl is imported here, before any service, with the two hidden unless already loaded.
_hidden = [name for name in ("numpy", "PIL") if name not in sys.modules]
for _name in _hidden:
    sys.modules[_name] = None  # type: ignore[assignment]  # import fails: "not installed"
try:
    import openpyxl  # noqa: F401
finally:
    for _name in _hidden:
        if sys.modules.get(_name) is None:
            del sys.modules[_name]
