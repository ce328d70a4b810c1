"""SQL for the deployment's fetch counters: one row per fetching process, summed by ``/metrics``.

    worker ─► save(owner, now, snapshot) ─► its row, replaced; rows silent for ``RETIRE_AFTER``
                                            folded into the "retired" row (sums kept)
    /metrics ─► total(now) ─► (sum of every row, processes heard from in ``LIVE_WITHIN``)
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.metrics import Snapshot

from .tables import process_metrics

RETIRED = "retired"
RETIRE_AFTER = timedelta(days=1)  # a row this old is a process that is gone
LIVE_WITHIN = timedelta(minutes=2)  # a row this fresh is a process that still reports


def save(conn: Connection, owner: str, now: datetime, snapshot: Snapshot) -> None:
    """Replace ``owner``'s row with ``snapshot``, then fold rows not written for a day into
    the retired row, so that restarts do not pile rows up and the sums never go down."""
    t = process_metrics
    values = {"updated_at": now, "counters": snapshot.to_json()}
    if not conn.execute(sa.update(t).where(t.c.owner == owner).values(**values)).rowcount:
        conn.execute(sa.insert(t).values(owner=owner, **values))
    stale = sa.select(t.c.owner, t.c.counters).where(t.c.owner != RETIRED, t.c.updated_at < now - RETIRE_AFTER)
    if conn.dialect.name == "postgresql":
        stale = stale.with_for_update(skip_locked=True)
    rows = conn.execute(stale).all()
    if not rows:
        return
    retired = conn.execute(sa.select(t.c.counters).where(t.c.owner == RETIRED)).scalar()
    folded = Snapshot.from_json(retired) if retired else Snapshot()
    for row in rows:
        folded = folded + Snapshot.from_json(row.counters)
    conn.execute(sa.delete(t).where(t.c.owner.in_([row.owner for row in rows])))
    values = {"updated_at": now, "counters": folded.to_json()}
    if retired is None:
        conn.execute(sa.insert(t).values(owner=RETIRED, **values))
    else:
        conn.execute(sa.update(t).where(t.c.owner == RETIRED).values(**values))


def total(conn: Connection, now: datetime, excluding: str | None = None) -> tuple[Snapshot, int]:
    """Every row's counters added up, and how many processes wrote theirs recently; but the row
    of ``excluding`` (the asking process, which adds its own live counters instead)."""
    summed, live = Snapshot(), 0
    for row in conn.execute(sa.select(process_metrics)):
        if row.owner == excluding:
            continue
        summed = summed + Snapshot.from_json(row.counters)
        live += row.owner != RETIRED and row.updated_at >= now - LIVE_WITHIN
    return summed, live
