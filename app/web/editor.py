"""The department editor: a draft as a tree, changed as you go (htmx), and the desk's 新建草稿.

Each write calls one service and answers the workspace (summary and tree) for htmx, or a
redirect back to the editor for a plain form post. A refusal goes to the one handler
(app.http.errors): a 422 re-renders the form it came from in place, a 409 tells what changed
since and offers a reload.
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.db.models import DraftImport
from app.errors import NotFound
from app.formats.sheets import MAX_UPLOAD_BYTES
from app.http.auth import SignedIn
from app.http.deps import SessionDep, SettingsDep
from app.http.errors import NO_REFUSAL, Refusal, refuse_in_place
from app.http.rendering import is_fragment_request, render
from app.services.drafts import editor, editor_tree
from app.services.drafts import items as draft_items
from app.services.drafts import lifecycle as drafts
from app.services.imports import into_draft as editor_import
from app.services.imports import undo as import_undo
from app.services.imports.pipeline import ImportScope
from app.services.review import workflow
from app.web.forms import Confirming, View, ask_first, status_of

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
    return render(
        request, "editor/_workspace.html", view=view, changed=changed, message=message, user=user,
        undo=_undo(session, view),
    )  # fmt: skip


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
        request, "editor/page.html", view=view, changed="", message="", user=user, undo=_undo(session, view)
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


# --- uploading a spreadsheet: previewed, confirmed, undone -------------------------------------

UPLOAD = "import"  # the upload form's key: a refusal of the preview or the confirmation comes back here


@router.post("/drafts/{draft_id}/imports")
def upload(
    request: Request,
    draft_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: SignedIn,
    file: UploadFile | None = None,
    mode: Annotated[ImportScope, Form()] = ImportScope.ADD_UPDATE,
    token: Text = "",
    confirm: Text = "",
) -> Response:
    """Upload a spreadsheet in two steps: what it would do is shown first, written only once confirmed.

    The first post carries the file (or, to preview it in the other mode, the token it is kept
    under); the confirmation carries the token and the mode that was previewed.
    """
    view = _upload_view(request, session, user, draft_id)
    if confirm != "1":
        data, name = (
            (file.file.read(MAX_UPLOAD_BYTES + 1), file.filename) if file and file.filename else (None, "")
        )
        plan = partial(
            editor_import.preview_upload, session, draft_id, data=data, filename=name or "", token=token,
            scope=mode, actor=user, catalogs_dir=settings.catalogs_dir,
        )  # fmt: skip
        return ask_first(request, view, key=UPLOAD, form={"mode": mode.value}, plan=plan)
    refuse_in_place(request, UPLOAD, lambda refusal: view(refusal=refusal))
    done = editor_import.apply_upload(
        session, draft_id, token=token, scope=mode, actor=user, catalogs_dir=settings.catalogs_dir
    )
    if done.effect is None:  # the file no longer passes (the rules changed since): its problems
        return view(confirming=Confirming(UPLOAD, done))
    c = done.effect.counts
    message = f"已导入：新增 {c.added} 项，修改 {c.changed} 项，撤销 {c.withdrawn} 项（可撤销这次导入）"
    return _workspace(request, session, user, draft_id, message=message)


def _upload_view(request: Request, session: SessionDep, user: SignedIn, draft_id: int) -> View:
    """Return the view of the upload's answer: the preview (or the file's problems, or a refusal)
    in the page's report slot, for htmx; else the whole editor page with it in place."""

    def view(*, confirming: Confirming | None = None, refusal: Refusal = NO_REFUSAL) -> Response:
        preview = confirming.plan if confirming is not None else None
        status = status_of({"refusal": refusal}, 200 if preview is None or preview.ok else 422)
        context = {"preview": preview, "refusal": refusal, "draft_id": draft_id}
        if not is_fragment_request(request):
            shown = editor.editor_view(session, draft_id, actor=user)
            page_context = {
                "view": shown,
                "changed": "",
                "message": "",
                "user": user,
                "undo": _undo(session, shown),
            }
            return render(request, "editor/page.html", status_code=status, **(page_context | context))
        response = render(request, "editor/_import_preview.html", status_code=status, **context)
        if status >= 400:  # htmx swaps an error only where it is told to
            response.headers["HX-Retarget"] = "#import-report"
            response.headers["HX-Reswap"] = "innerHTML"
        return response

    return view


def _undo(session: SessionDep, view: editor.EditorView) -> DraftImport | None:
    """Return the upload the page offers to undo (the draft's last edit), if any."""
    return import_undo.undoable(session, view.draft) if view.editable else None


@router.post("/drafts/{draft_id}/imports/{import_id}/undo")
def undo_upload(
    request: Request, draft_id: int, import_id: int, session: SessionDep, user: SignedIn, lock: Lock
) -> Response:
    """Undo an applied upload in one step: the draft's changes and findings as they were before it."""
    refuse_in_place(request, f"undo-{import_id}", partial(_undo_refused, request, session, user, draft_id))
    done = import_undo.undo_import(session, draft_id, import_id, lock=lock, actor=user)
    return _workspace(
        request, session, user, draft_id, message=f"已撤销导入“{done.filename}”，草稿恢复到导入之前"
    )


def _undo_refused(
    request: Request, session: SessionDep, user: SignedIn, draft_id: int, refusal: Refusal
) -> Response | None:
    """Answer a refused undo: for htmx the message (and what changed) into #flash; else the page with it."""
    if is_fragment_request(request):
        return None
    return _upload_view(request, session, user, draft_id)(refusal=refusal)
