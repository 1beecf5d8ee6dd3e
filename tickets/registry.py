"""Import every model module, so ``Base.metadata`` knows every table (Alembic, tests)."""

import tickets.accounts  # noqa: F401
import tickets.api_keys  # noqa: F401
import tickets.audit  # noqa: F401
import tickets.calendar_days  # noqa: F401
import tickets.calls  # noqa: F401
import tickets.canned  # noqa: F401
import tickets.directory  # noqa: F401
import tickets.escalation  # noqa: F401
import tickets.hospital_alerts  # noqa: F401
import tickets.messages  # noqa: F401
import tickets.models  # noqa: F401
import tickets.open311  # noqa: F401
import tickets.routing_store  # noqa: F401
import tickets.sla  # noqa: F401
import tickets.sla_rollup  # noqa: F401
from tickets.db import Base

metadata = Base.metadata
