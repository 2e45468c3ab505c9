"""Every text a person reads, as small functions; user data is always HTML-escaped.

One package, one module per area (common, reports, reminders, office, ...), all re-exported
here so callers write `from bot import texts; texts.report_card(...)`.
"""

from bot.texts.assessment import *  # noqa: F403
from bot.texts.bulletin import *  # noqa: F403
from bot.texts.charts import *  # noqa: F403
from bot.texts.closeout import *  # noqa: F403
from bot.texts.common import *  # noqa: F403
from bot.texts.evidence import *  # noqa: F403
from bot.texts.office import *  # noqa: F403
