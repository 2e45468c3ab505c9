"""Queries behind the office's and leaders' views: tasks, obligations, latest reports, nudges.

One module per responsibility (`_scope`, `_reports`, `_boards`, `_overdue`, `_nudges`); this
package is their public surface, so callers write `from db import views; views.boards(...)`.

Set-based: each function runs a fixed number of statements whatever the number of tasks, and
restricts reports through a subquery of the tasks in scope (a year, a leader's tasks, one task);
only the views over a whole year go through their tasks' ids, 1,000 at a time (`board_chunks`).
Reports are read through the indexes on (task_id, unit_id, created_at), (cycle_key, task_id,
unit_id) and (created_at), each pair's latest ones from report_latest, each pair's reported
cycles from report_cycles.

At 10,000 tasks the cost is mostly outside the database, so: rows are read as Core tuples
(`_rows`), the largest statements are built once per scope shape with named parameters
(`Scope.shape`, `Scope.params`), /overdue reads only the page it shows (`overdue_page`), and
the summaries ask for the latest reports without text and quantities (`details=False`).
"""

from db.tasks import task_id_by_no
from db.views._boards import CHUNK, Boards, board_chunks, boards, ledger_chunks
from db.views._nudges import (
    add_nudge,
    day_start,
    leader_contacts,
    liaison_counts,
    nudge_counts,
    nudged_since,
    nudges_by_unit,
)
from db.views._overdue import OverduePage, OverdueUnits, overdue, overdue_page, overdue_units
from db.views._reports import (
    done_at,
    latest,
    report_count,
    reported_keys,
    reports_between,
    task_reports,
)
from db.views._scope import Scope, Shape, by_id, catalogue, load_tasks, local_day, task_year

__all__ = [
    "CHUNK",
    "Boards",
    "OverduePage",
    "OverdueUnits",
    "Scope",
    "Shape",
    "add_nudge",
    "board_chunks",
    "boards",
    "by_id",
    "catalogue",
    "day_start",
    "done_at",
    "latest",
    "leader_contacts",
    "ledger_chunks",
    "liaison_counts",
    "load_tasks",
    "local_day",
    "nudge_counts",
    "nudged_since",
    "nudges_by_unit",
    "overdue",
    "overdue_page",
    "overdue_units",
    "report_count",
    "reported_keys",
    "reports_between",
    "task_id_by_no",
    "task_reports",
    "task_year",
]
