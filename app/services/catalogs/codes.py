"""A catalog's code scheme: read by the editor, the import and the merge; set from the command line."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.catalog.codes import CodeScheme
from app.catalog.tree import build_tree
from app.db import store
from app.db.models import Catalog
from app.errors import Forbidden, InvalidInput
from app.services import access, audit
from app.services.access import Actor
from app.services.catalogs import browse
from app.services.drafts import lifecycle as drafts
from app.workflow.states import Role


def scheme_of(catalog: Catalog) -> CodeScheme:
    """Return the scheme `catalog`'s codes follow."""
    return CodeScheme.parse(catalog.code_scheme)


def set_scheme(session: Session, slug: str, text: str, *, actor: Actor) -> Catalog:
    """Make catalog `slug` number its nodes by the scheme written `text` (e.g. A/01/01/01), audit, commit.

    Finance admins and the system only. Refused, naming the first codes that do not fit, while
    its newest version holds codes of another form: renumber those first.
    """
    catalog = browse.catalog(session, slug)
    access.require_same_jurisdiction(actor, catalog)
    role = access.role_of(actor)
    if role not in (Role.FINANCE_ADMIN, Role.SYSTEM):
        raise Forbidden(f"{role.label}不能修改目录的编码规则，只有财政管理员可以")
    try:
        scheme = CodeScheme.parse(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    newest = drafts.latest_version(session, catalog)
    states = store.load_version(session, catalog.id, newest.seq)
    _, problems = build_tree((n.state for n in states.values()), scheme)
    if problems:
        shown = "；".join(f"{states[p.uid].state.code}：{p.reason}" for p in problems[:5])
        more = f"等 {len(problems)} 处" if len(problems) > 5 else ""
        raise InvalidInput(f"第{newest.seq}版有编码不符合 {scheme}：{shown}{more}")
    before, catalog.code_scheme = catalog.code_scheme, str(scheme)
    audit.record(
        session,
        actor=actor,
        action="catalog.code_scheme",
        object_type="catalog",
        object_id=catalog.id,
        summary={"from": before, "to": catalog.code_scheme},
    )
    session.commit()
    return catalog
