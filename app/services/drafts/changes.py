"""A draft's changes in bulk: counting them, writing them and the catalog they propose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.catalog.nodes import NodeState
from app.db import draft_store, store
from app.db.models import Draft, Version


@dataclass(frozen=True, slots=True)
class ChangeCounts:
    added: int = 0
    changed: int = 0
    withdrawn: int = 0

    @property
    def total(self) -> int:
        """Return the number of changed nodes."""
        return self.added + self.changed + self.withdrawn


def count(changes: Mapping[str, tuple[NodeState | None, NodeState | None]]) -> ChangeCounts:
    """Return how many of (base, proposed) pairs add, change or withdraw a node."""
    added = sum(1 for base, _ in changes.values() if base is None)
    withdrawn = sum(1 for base, new in changes.values() if base is not None and new is None)
    return ChangeCounts(added=added, changed=len(changes) - added - withdrawn, withdrawn=withdrawn)


def write_changes(
    session: Session,
    draft: Draft,
    changes: Mapping[str, NodeState | None],
    base: Mapping[str, store.StoredNode],
) -> ChangeCounts:
    """Record `changes` (uid → proposed state, None to withdraw) against the nodes of `base` in bulk.

    A proposed state equal to the base is no change and is dropped; nodes not in `base`
    are created (their identity exists from now on, whether or not the draft is merged).
    """
    pairs = {
        uid: (base[uid].state if uid in base else None, new)
        for uid, new in changes.items()
        if not (uid in base and base[uid].state == new) and not (uid not in base and new is None)
    }
    new_ids = draft_store.ensure_nodes_bulk(
        session, draft.catalog_id, [u for u, (old, _) in pairs.items() if old is None]
    )
    rows = (
        (base[u].node_id if u in base else new_ids[u], base[u].revision_id if u in base else None, old, new)
        for u, (old, new) in pairs.items()
    )
    draft_store.insert_changes(session, draft.id, rows)
    return count(pairs)


def snapshot(session: Session, draft: Draft) -> dict[str, NodeState]:
    """Return the whole catalog as the draft proposes it: its base overlaid with its changes."""
    base_seq = session.get_one(Version, draft.base_version_id).seq
    states = {uid: n.state for uid, n in store.load_version(session, draft.catalog_id, base_seq).items()}
    for change in draft_store.load_changes(session, draft.id):
        if change.proposed is None:
            states.pop(change.uid, None)
        else:
            states[change.uid] = change.proposed
    return states
