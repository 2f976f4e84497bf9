"""The department editor: a draft as a tree, changed as you go (htmx), and the desk's 新建草稿.

Each write calls one service and answers the workspace (summary and tree) for htmx, or a
redirect back to the editor for a plain form post. A refusal goes to the one handler
(app.http.errors): a 422 re-renders the form it came from in place, a 409 tells what changed
since and offers a reload.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.errors import NotFound
from app.formats.sheets import MAX_UPLOAD_BYTES
from app.http.auth import SignedIn
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import Refusal, refuse_in_place
from app.http.rendering import is_fragment_request, render
from app.services.drafts import editor, editor_tree
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.imports import into_draft as editor_import
from app.services.imports.pipeline import ImportResult
from app.services.review import workflow

router = APIRouter(include_in_schema=False)

Lock = Annotated[int, Form()]
Text = Annotated[str, Form()]


def _page(draft_id: int) -> str:
    return f"/drafts/{draft_id}"


def _workspace(
    request: Request, session: SessionDep, user: SignedIn, draft_id: int, *, changed: str = "", message: str
) -> Response:
    """Answer a write: the workspace for htmx (changed row and toast), else back to the editor page."""
    if not is_fragment_request(request):
        return RedirectResponse(f"{_page(draft_id)}#item-{changed}" if changed else _page(draft_id), 303)
    view = editor.editor_view(session, draft_id, actor=user)
    return render(request, "editor/_workspace.html", view=view, changed=changed, message=message, user=user)


@router.post("/drafts")
def create(
    session: SessionDep, user: SignedIn, catalog: Text, title: Text = "", request_token: Text = ""
) -> Response:
    """Open a new draft of the editor's department on the catalog's newest version (once per form)."""
    token = request_token.strip()[:64] or None
    draft = drafts.create_draft(session, catalog, actor=user, title=title.strip(), request_token=token)
    return RedirectResponse(_page(draft.id), status_code=303)


@router.get("/drafts/new", response_class=HTMLResponse)
def new_draft(request: Request, session: SessionDep, user: SignedIn) -> Response:
    """Return the 新建草稿 form: a fragment for the desk, or a page of its own."""
    catalogs = editor.creatable_catalogs(session, user)
    template = "editor/_new_draft.html" if is_fragment_request(request) else "editor/new.html"
    return render(request, template, catalogs=catalogs, user=user, request_token=secrets.token_urlsafe(24))


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
def page(request: Request, draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    view = editor.editor_view(session, draft_id, actor=user)
    return render(
        request, "editor/page.html", view=view, changed="", message="", user=user, import_result=None
    )


@router.get("/drafts/{draft_id}/types/{type_uid}/new", response_class=HTMLResponse)
def add_form(request: Request, draft_id: int, type_uid: str, session: SessionDep, user: SignedIn) -> Response:
    drafts.get_draft(session, draft_id, actor=user)
    return render(request, "editor/_add_form.html", **_add_context(draft_id, type_uid, "", ""))


def _form_in_place(request: Request, template: str, target: str, **context: Any) -> None:
    """Have a 422 refusal of this htmx form re-render `template` in place of `target`, with the message."""

    def answer(refusal: Refusal) -> Response | None:
        if refusal.code != "invalid" or not is_fragment_request(request):
            return None  # a 409 or a blocked submit: the message (and a reload) goes into #flash
        response = render(request, template, status_code=422, **(context | {"error": refusal.message}))
        response.headers["HX-Retarget"] = target
        response.headers["HX-Reswap"] = "outerHTML"
        return response

    refuse_in_place(request, "form", answer)


def _add_context(draft_id: int, type_uid: str, name: str, description: str) -> dict[str, Any]:
    return {"draft_id": draft_id, "type_uid": type_uid, "name": name, "description": description, "error": ""}


def _typed_form(request: Request, template: str, target: str, context: dict[str, Any]) -> None:
    """Have a refusal of an item's form (add or edit) re-render it in place with what was typed."""
    _form_in_place(request, template, target, **context)


@router.post("/drafts/{draft_id}/types/{type_uid}/items")
def add(
    request: Request,
    draft_id: int,
    type_uid: str,
    session: SessionDep,
    user: SignedIn,
    lock: Lock,
    name: Text = "",
    description: Text = "",
) -> Response:
    _typed_form(
        request,
        "editor/_add_form.html",
        f"#add-{type_uid}",
        _add_context(draft_id, type_uid, name, description),
    )
    state = draft_items.add_item(
        session, draft_id, parent=type_uid, name=name, description=description, lock=lock, actor=user
    )
    return _workspace(request, session, user, draft_id, changed=state.uid, message=f"已新增“{state.name}”")


@router.get("/drafts/{draft_id}/items/{uid}", response_class=HTMLResponse)
def item(request: Request, draft_id: int, uid: str, session: SessionDep, user: SignedIn) -> Response:
    """Return one item's row (Esc on its edit form comes back to it)."""
    view = editor.editor_view(session, draft_id, actor=user)
    return render(request, "editor/_item.html", view=view, it=_item(view, uid), changed="")


@router.get("/drafts/{draft_id}/items/{uid}/edit", response_class=HTMLResponse)
def edit_form(request: Request, draft_id: int, uid: str, session: SessionDep, user: SignedIn) -> Response:
    view = editor.editor_view(session, draft_id, actor=user)
    state = _item(view, uid).state
    context = _edit_context(draft_id, uid, state.name, state.description)
    return render(request, "editor/_edit_form.html", **context)


def _edit_context(draft_id: int, uid: str, name: str, description: str) -> dict[str, Any]:
    return {"draft_id": draft_id, "uid": uid, "name": name, "description": description, "error": ""}


def _item(view: editor.EditorView, uid: str) -> editor_tree.EditorItem:
    found = view.item(uid)
    if found is None:
        raise NotFound("草稿中没有这个目录条目")
    return found


@router.post("/drafts/{draft_id}/items/{uid}")
def edit(
    request: Request,
    draft_id: int,
    uid: str,
    session: SessionDep,
    user: SignedIn,
    lock: Lock,
    name: Text = "",
    description: Text = "",
) -> Response:
    _typed_form(
        request, "editor/_edit_form.html", f"#item-{uid}", _edit_context(draft_id, uid, name, description)
    )
    state = draft_items.edit_item(
        session, draft_id, uid, name=name, description=description, lock=lock, actor=user
    )
    return _workspace(request, session, user, draft_id, changed=uid, message=f"已保存“{state.name}”")


@router.get("/drafts/{draft_id}/items/{uid}/move", response_class=HTMLResponse)
def move_form(request: Request, draft_id: int, uid: str, session: SessionDep, user: SignedIn) -> Response:
    view = editor.editor_view(session, draft_id, actor=user)
    return render(request, "editor/_picker.html", view=view, it=_item(view, uid))


@router.post("/drafts/{draft_id}/items/{uid}/move")
def move(
    request: Request,
    draft_id: int,
    uid: str,
    session: SessionDep,
    user: SignedIn,
    lock: Lock,
    parent: Text = "",
) -> Response:
    state = draft_items.move_item(session, draft_id, uid, parent=parent, lock=lock, actor=user)
    return _workspace(request, session, user, draft_id, changed=uid, message=f"已移动，新编码 {state.code}")


@router.post("/drafts/{draft_id}/items/{uid}/withdraw")
def withdraw(
    request: Request, draft_id: int, uid: str, session: SessionDep, user: SignedIn, lock: Lock
) -> Response:
    draft_items.withdraw_item(session, draft_id, uid, lock=lock, actor=user)
    return _workspace(request, session, user, draft_id, changed=uid, message="已撤销该条目")


@router.post("/drafts/{draft_id}/items/{uid}/restore")
def restore(
    request: Request, draft_id: int, uid: str, session: SessionDep, user: SignedIn, lock: Lock
) -> Response:
    """Drop the draft's change to the item: a withdrawal is restored, an edit or move undone."""
    draft_items.discard_change(session, draft_id, uid, lock=lock, actor=user)
    return _workspace(request, session, user, draft_id, changed=uid, message="已恢复为基础版本的内容")


@router.post("/drafts/{draft_id}/types/{type_uid}/order")
def reorder(
    request: Request,
    draft_id: int,
    type_uid: str,
    session: SessionDep,
    user: SignedIn,
    lock: Lock,
    uids: Annotated[list[str], Form()],
    moved: Text = "",
) -> Response:
    draft_items.reorder(session, draft_id, type_uid, uids, lock=lock, actor=user)
    return _workspace(request, session, user, draft_id, changed=moved, message="已调整顺序")


@router.post("/drafts/{draft_id}/screening", response_class=HTMLResponse)
def screen(
    request: Request,
    draft_id: int,
    session: SessionDep,
    user: SignedIn,
    name: Text = "",
    description: Text = "",
) -> Response:
    """Return the findings for the text being typed (debounced by the page); writes nothing."""
    found = editor.screen_text(session, draft_id, name=name, description=description, actor=user)
    return render(request, "editor/_screening.html", findings=found, typed=bool(name or description))


@router.get("/drafts/{draft_id}/submit", response_class=HTMLResponse)
def confirm_submit(request: Request, draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    """Return the submit confirmation: the summary and every blocking finding."""
    view = editor.editor_view(session, draft_id, actor=user)
    return render(request, "editor/_confirm.html", view=view, blockers=editor.blocking_findings(view))


@router.post("/drafts/{draft_id}/submit")
def submit(request: Request, draft_id: int, session: SessionDep, user: SignedIn, lock: Lock) -> Response:
    workflow.submit(session, draft_id, actor=user, lock=lock)
    return _workspace(request, session, user, draft_id, message="已送审，等待财政部门审核")


@router.get("/drafts/{draft_id}/withdraw", response_class=HTMLResponse)
def confirm_withdraw(request: Request, draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    """Return what withdrawing the draft means, and (for finance, on a department's draft) the reason."""
    view = editor.editor_view(session, draft_id, actor=user)
    return render(request, "editor/_withdraw.html", view=view, reason_required=_finance_on_department(view))


def _finance_on_department(view: editor.EditorView) -> bool:
    return view.draft.department_id is not None and view.viewer_is_finance


@router.post("/drafts/{draft_id}/withdraw")
def withdraw_draft(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, lock: Lock, reason: Text = ""
) -> Response:
    form = {"draft_id": draft_id, "lock": lock, "reason": reason, "reason_required": True}
    _form_in_place(request, "editor/_withdraw_form.html", "#withdraw-form", **form)
    workflow.withdraw(session, draft_id, actor=user, lock=lock, reason=reason)
    return _workspace(request, session, user, draft_id, message="草稿已撤回：不再送审，也不会合并")


@router.post("/drafts/{draft_id}/reopen")
def reopen_draft(
    request: Request, draft_id: int, session: SessionDep, user: SignedIn, lock: Lock
) -> Response:
    workflow.reopen(session, draft_id, actor=user, lock=lock)
    return _workspace(request, session, user, draft_id, message="草稿已重新打开，可以继续修改")


@router.get("/drafts/{draft_id}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    view = editor.editor_view(session, draft_id, actor=user)
    return render(request, "editor/_delete.html", view=view)


@router.post("/drafts/{draft_id}/delete")
def delete_draft(request: Request, draft_id: int, session: SessionDep, user: SignedIn) -> Response:
    """Delete an empty draft (made by mistake); back to the desk."""
    drafts.delete_empty(session, draft_id, actor=user)
    if is_fragment_request(request):
        return Response(status_code=204, headers={"HX-Redirect": "/desk"})
    return RedirectResponse("/desk", status_code=303)


@router.post("/drafts/{draft_id}/imports")
def upload(
    request: Request,
    draft_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedIn,
    lock: Lock,
    file: UploadFile,
) -> Response:
    """Import a spreadsheet into the draft: a bad file answers its row-by-row report and writes nothing."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    result = editor_import.import_into_draft(
        session,
        draft_id,
        data=data,
        filename=file.filename or "",
        lock=lock,
        actor=user,
        catalogs_dir=settings.catalogs_dir,
    )
    if not result.ok:
        return _import_report(request, session, user, draft_id, result)
    counts = result.counts
    message = f"已导入：新增 {counts.added} 项，修改 {counts.changed} 项，撤销 {counts.withdrawn} 项"
    return _workspace(request, session, user, draft_id, message=message)


def _import_report(
    request: Request, session: SessionDep, user: SignedIn, draft_id: int, result: ImportResult
) -> Response:
    """Answer a bad file: its row-by-row report (422) into the page's report slot; nothing was written."""
    if not is_fragment_request(request):
        view = editor.editor_view(session, draft_id, actor=user)
        context = {"view": view, "changed": "", "message": "", "user": user, "import_result": result}
        return render(request, "editor/page.html", status_code=422, **context)
    response = render(request, "editor/_import_report.html", status_code=422, result=result)
    response.headers["HX-Retarget"] = "#import-report"
    response.headers["HX-Reswap"] = "innerHTML"
    return response
