"""Editing a draft's items one at a time: add, edit, move, withdraw, reorder and restore."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from app.catalog.nodes import DESCRIPTION_MAX, NAME_MAX, Level, NodeState
from app.catalog.text import normalise
from app.db import draft_store, store
from app.db.models import Catalog
from app.errors import Forbidden, InvalidInput, NotFound
from app.services import access
from app.services.access import Actor
from app.services.catalogs.authoring import new_uid
from app.services.catalogs.codes import scheme_of
from app.services.drafts.lifecycle import begin_edit, change_row
from app.workflow.states import FINANCE, Role


def _clean(name: str, description: str) -> tuple[str, str]:
    name, description = normalise(name), normalise(description)
    if not name:
        raise InvalidInput("名称不能为空")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"名称过长：{len(name)} 个字符，最多 {NAME_MAX} 个")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"服务内容过长：{len(description)} 个字符，最多 {DESCRIPTION_MAX} 个")
    return name, description


def add_item(
    session: Session,
    draft_id: int,
    *,
    parent: str,
    name: str,
    description: str = "",
    department: str | None = None,
    lock: int | None,
    actor: Actor,
) -> NodeState:
    """Add an item under `parent` (a type, or a 三级 item for a 四级 one) and return its state."""
    edit = begin_edit(session, draft_id, lock=lock, actor=actor)
    _, _, parent_state = edit.node(parent)
    if parent_state is None or parent_state.level not in (Level.TYPE, Level.ITEM):
        raise InvalidInput("只能在二级目录下新增三级目录，或在三级目录下新增四级目录")
    if parent_state.level is Level.ITEM:
        access.check_item(session, actor, parent_state)
    if access.role_of(actor) is Role.DEPT_EDITOR:
        department = access.department_code(session, actor)  # a department proposes its own items
    name, description = _clean(name, description)
    level = Level(parent_state.level + 1)
    siblings = edit.children(parent)
    if any(s.name == name and s.department == (department or parent_state.department) for s in siblings):
        raise InvalidInput(f"同一目录、同一部门下已有“{name}”")
    uid = new_uid()
    scheme = scheme_of(session.get_one(Catalog, edit.draft.catalog_id))
    state = NodeState(
        uid,
        parent,
        level,
        scheme.next_child(parent_state.code, level, edit.taken_codes(parent)),
        name,
        description,
        department or parent_state.department,
        max((s.sort_key for s in siblings), default=0) + 10,
    )
    node_id = store.create_nodes(session, edit.draft.catalog_id, [uid])[uid]
    edit.put(node_id, uid, None, state)
    edit.screen(uid)
    edit.done("draft.add", uid, None, state)
    return state


def edit_item(
    session: Session,
    draft_id: int,
    uid: str,
    *,
    name: str | None = None,
    description: str | None = None,
    lock: int | None,
    actor: Actor,
) -> NodeState:
    """Change an item's name and/or 服务内容 in the draft and return its new state."""
    edit = begin_edit(session, draft_id, lock=lock, actor=actor)
    node_id, base, current = edit.node(uid)
    if current is None:
        raise InvalidInput("该条目已在草稿中撤销，请先恢复")
    access.check_item(session, actor, current)
    new_name, new_desc = _clean(
        current.name if name is None else name, current.description if description is None else description
    )
    state = replace(current, name=new_name, description=new_desc)
    edit.put(node_id, uid, base, state)
    edit.screen(uid)
    edit.done("draft.edit", uid, current, state)
    return state


def move_item(
    session: Session, draft_id: int, uid: str, *, parent: str, lock: int | None, actor: Actor
) -> NodeState:
    """Move an item under another node of its parent's level, giving it the next code there."""
    edit = begin_edit(session, draft_id, lock=lock, actor=actor)
    node_id, base, current = edit.node(uid)
    _, _, target = edit.node(parent)
    if current is None or target is None:
        raise InvalidInput("条目或目标目录已在草稿中撤销")
    access.check_item(session, actor, current)
    if target.level != current.level - 1:
        raise InvalidInput(f"{current.level.label}只能移到{Level(current.level - 1).label}下")
    if target.level >= Level.ITEM:  # a 四级 sub-item moves only under an item its department may change
        access.check_item(session, actor, target)
    if current.parent == parent:
        return current
    if any(s.name == current.name and s.department == current.department for s in edit.children(parent)):
        raise InvalidInput(f"“{target.name}”下已有本部门的“{current.name}”，不能移入同名条目")
    scheme = scheme_of(session.get_one(Catalog, edit.draft.catalog_id))
    code = scheme.next_child(target.code, current.level, edit.taken_codes(parent))
    sort_key = max((s.sort_key for s in edit.children(parent)), default=0) + 10
    state = replace(current, parent=parent, code=code, sort_key=sort_key)
    edit.put(node_id, uid, base, state)
    for child in edit.children(uid):  # 四级 sub-items follow their item and take codes under it
        c_id, c_base, _ = edit.node(child.uid)
        edit.put(c_id, child.uid, c_base, replace(child, code=code + child.code[len(current.code) :]))
    edit.done("draft.move", uid, current, state)
    return state


def withdraw_item(session: Session, draft_id: int, uid: str, *, lock: int | None, actor: Actor) -> None:
    """Withdraw an item (and its 四级 sub-items) in the draft."""
    edit = begin_edit(session, draft_id, lock=lock, actor=actor)
    node_id, base, current = edit.node(uid)
    if current is None:
        return
    access.check_item(session, actor, current)
    if current.level < Level.ITEM:
        raise InvalidInput("一级、二级目录由财政部门维护，不能在草稿中撤销")
    for child in edit.children(uid):
        c_id, c_base, _ = edit.node(child.uid)
        edit.put(c_id, child.uid, c_base, None)
    edit.put(node_id, uid, base, None)
    edit.done("draft.withdraw", uid, current, None)


def reorder(
    session: Session, draft_id: int, parent: str, uids: list[str], *, lock: int | None, actor: Actor
) -> None:
    """Put the children of `parent` in the order of `uids`.

    The finance bureau lists every child once. A department lists each of its own children
    once: they are reordered among the places they already hold, so the other departments'
    items under a type they share keep theirs.
    """
    edit = begin_edit(session, draft_id, lock=lock, actor=actor)
    children = sorted(edit.children(parent), key=lambda s: (s.sort_key, s.code))
    if access.role_of(actor) in FINANCE or access.role_of(actor) is Role.SYSTEM:
        movable, slots = children, [position * 10 for position in range(1, len(children) + 1)]
        message = "排序列表必须恰好包含该目录下的全部条目"
    else:
        own = access.department_code(session, actor)
        movable = [s for s in children if s.department == own]
        slots = [s.sort_key for s in movable]
        message = "排序列表必须恰好包含本部门在该目录下的全部条目"
        if not movable:
            raise Forbidden("只能调整本部门目录条目的顺序")
    if sorted(uids) != sorted(s.uid for s in movable):
        raise InvalidInput(message)
    if len(set(slots)) < len(slots):  # tied places: spread the department's items apart first
        slots = [slots[0] + i for i in range(len(slots))] if slots else slots
    for uid, sort_key in zip(uids, slots, strict=True):
        node_id, base, current = edit.node(uid)
        assert current is not None
        if current.sort_key != sort_key:
            edit.put(node_id, uid, base, replace(current, sort_key=sort_key))
    edit.done("draft.reorder", parent, None, None)


def discard_change(session: Session, draft_id: int, uid: str, *, lock: int | None, actor: Actor) -> None:
    """Drop the draft's change to `uid`: the node is as in the base again (a withdrawal is restored)."""
    edit = begin_edit(session, draft_id, lock=lock, actor=actor)
    row = change_row(session, draft_id, uid)
    if row is None:
        raise NotFound("草稿中没有对这个条目的修改")
    before = draft_store.state_from_json(uid, row.fields)
    _, base, _ = edit.node(uid)
    access.check_item(session, actor, before or (base.state if base else None))
    session.delete(row)
    edit.done("draft.discard", uid, before, None)
