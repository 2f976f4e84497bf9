// guidecat editor: keyboard navigation of the draft's tree, drag-and-drop (mouse and keyboard),
// the move picker's search, toasts and the changed row's highlight. Every change is an htmx request.
(function () {
  "use strict";
  var collapsed = {};      // type uid -> true, kept across swaps of the workspace
  var showEmpty = false;
  var grabbed = null;      // {uid, type} while an item is picked up with the keyboard
  var toastTimer = null;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function draftId() { var e = $("#editor"); return e ? e.getAttribute("data-draft") : null; }
  function lock() { var l = $("#draft-lock"); return l ? l.value : ""; }

  function toast(message) {
    var t = $("#editor-toast");
    if (!t || !message) return;
    t.textContent = message;
    t.classList.add("shown");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.classList.remove("shown"); }, 3000);
  }

  function visibleRows() {
    return $all("#tree .row").filter(function (r) { return r.offsetParent !== null; });
  }

  function focusRow(row) {
    if (!row) return;
    $all("#tree .row[tabindex='0']").forEach(function (r) { r.setAttribute("tabindex", "-1"); });
    row.setAttribute("tabindex", "0");
    row.focus();
  }

  function applyState() {
    var tree = $("#tree");
    if (!tree) return;
    tree.classList.toggle("show-empty", showEmpty);
    var box = $("#show-empty");
    if (box) box.checked = showEmpty;
    $all(".etype", tree).forEach(function (t) {
      var shut = !!collapsed[t.getAttribute("data-uid")];
      t.classList.toggle("collapsed", shut);
      $(".type-row", t).setAttribute("aria-expanded", shut ? "false" : "true");
    });
    if (!$("#tree .row[tabindex='0']")) {
      var first = visibleRows()[0];
      if (first) first.setAttribute("tabindex", "0");
    }
  }

  function setCollapsed(typeLi, shut) {
    collapsed[typeLi.getAttribute("data-uid")] = shut;
    applyState();
  }

  function csrfHeaders() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { return {}; }
  }

  function post(path, values) {
    values.lock = lock();
    return htmx.ajax("POST", path, { target: "#workspace", swap: "outerHTML", values: values, headers: csrfHeaders() });
  }

  function moveItem(uid, parent) {
    return post("/drafts/" + draftId() + "/items/" + uid + "/move", { parent: parent });
  }

  function reorder(itemLi, delta) {
    var list = itemLi.parentElement;
    var items = $all(":scope > .item-row", list).filter(function (li) { return !li.classList.contains("withdrawn"); });
    var all = $all(":scope > .item-row", list);
    var index = all.indexOf(itemLi);
    var target = index + delta;
    if (target < 0 || target >= all.length) { toast(delta < 0 ? "已经是第一项" : "已经是最后一项"); return; }
    var uids = all.map(function (li) { return li.getAttribute("data-uid"); });
    uids.splice(index, 1);
    uids.splice(target, 0, itemLi.getAttribute("data-uid"));
    var live = items.map(function (li) { return li.getAttribute("data-uid"); });
    uids = uids.filter(function (u) { return live.indexOf(u) >= 0; });
    post("/drafts/" + draftId() + "/types/" + list.getAttribute("data-type") + "/order",
      { uids: uids, moved: itemLi.getAttribute("data-uid") });
  }

  // --- keyboard ---------------------------------------------------------------------------
  function onTreeKey(event) {
    var row = event.target.closest && event.target.closest(".row");
    if (!row || event.target !== row) return;
    var li = row.closest(".item-row") || row.closest(".etype");
    var rows = visibleRows();
    var i = rows.indexOf(row);
    var key = event.key;
    if (grabbed) { return onGrabbedKey(event, row, rows, i); }
    if (key === "ArrowDown" && event.altKey && li.classList.contains("item-row")) { event.preventDefault(); reorder(li, 1); return; }
    if (key === "ArrowUp" && event.altKey && li.classList.contains("item-row")) { event.preventDefault(); reorder(li, -1); return; }
    if (key === "ArrowDown") { event.preventDefault(); focusRow(rows[i + 1]); return; }
    if (key === "ArrowUp") { event.preventDefault(); focusRow(rows[i - 1]); return; }
    if (key === "Home") { event.preventDefault(); focusRow(rows[0]); return; }
    if (key === "End") { event.preventDefault(); focusRow(rows[rows.length - 1]); return; }
    if (key === "ArrowRight" && li.classList.contains("etype")) { event.preventDefault(); setCollapsed(li, false); return; }
    if (key === "ArrowLeft") {
      event.preventDefault();
      if (li.classList.contains("etype")) { setCollapsed(li, true); focusRow(row); }
      else { focusRow($(".type-row", li.closest(".etype"))); }
      return;
    }
    if (key === "Enter" && li.classList.contains("item-row")) {
      event.preventDefault();
      var edit = $(".edit-btn", li) || $(".restore-btn", li);
      if (edit) edit.click();
      return;
    }
    if (key === "Enter" && li.classList.contains("etype")) {
      event.preventDefault();
      var add = $(".add-btn", li);
      if (add) add.click();
      return;
    }
    if ((key === "m" || key === "M") && li.classList.contains("item-row") && row.getAttribute("draggable") === "true") {
      event.preventDefault();
      var sub = isSubitem(li);
      grabbed = { uid: li.getAttribute("data-uid"), type: li.getAttribute("data-type"), sub: sub };
      li.classList.add("grabbed");
      toast("已拾起“" + $(".item-name", li).textContent + "”：用 ↑ ↓ 选择" + (sub ? "三级" : "二级") +
        "目录，Enter 放下，Esc 放弃");
      var own = sub ? $("#item-" + grabbed.type + " > .row") : $("#type-" + grabbed.type + " > .type-row");
      markDrop(own);
      focusRow(own);
    }
  }

  // A 四级 sub-item goes under a 三级 item, a 三级 item under a type: its drop targets.
  function isSubitem(li) { return li.getAttribute("data-level") === "4"; }
  function dropTargetOf(el, sub) {
    if (!el) return null;
    return el.closest(sub ? ".item-row[data-level='3']:not(.withdrawn)" : ".etype");
  }
  function targetRows(rows, sub) {
    return rows.filter(function (r) {
      return sub ? r.classList.contains("item-line") && dropTargetOf(r, true) === r.closest(".item-row")
                 : r.classList.contains("type-row");
    });
  }

  function markDrop(row) {
    $all(".drop-target").forEach(function (t) { t.classList.remove("drop-target"); });
    if (row) row.closest(".item-row[data-level='3'], .etype").classList.add("drop-target");
  }

  function onGrabbedKey(event, row, rows, i) {
    var key = event.key;
    var sub = grabbed.sub;
    var choices = targetRows(rows, sub);
    var here = dropTargetOf(row, sub);
    var t = choices.indexOf(here ? $(sub ? ":scope > .row" : ":scope > .type-row", here) : null);
    if (key === "ArrowDown" || key === "ArrowUp") {
      event.preventDefault();
      var next = choices[t + (key === "ArrowDown" ? 1 : -1)];
      if (next) { markDrop(next); focusRow(next); }
      return;
    }
    if (key === "Escape") { event.preventDefault(); dropGrab(true); return; }
    if (key === "Enter") {
      event.preventDefault();
      var target = here ? here.getAttribute("data-uid") : null;
      var uid = grabbed.uid, from = grabbed.type;
      dropGrab(false);
      if (target && target !== from) moveItem(uid, target);
      else toast(sub ? "仍在原三级目录，未移动" : "仍在原二级目录，未移动");
    }
  }

  function dropGrab(refocus) {
    if (!grabbed) return;
    var li = $("#item-" + grabbed.uid);
    if (li) li.classList.remove("grabbed");
    markDrop(null);
    grabbed = null;
    if (refocus && li) { toast("已放弃移动"); focusRow($(".row", li)); }
  }

  function onFormKey(event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest(".edit-form, .add-form");
    if (!form) return;
    event.preventDefault();
    if (form.classList.contains("edit-form")) { $(".cancel-btn", form).click(); }
    else { cancelAdd(form); }
  }

  function cancelAdd(form) {
    var typeLi = form.closest(".etype");
    var slot = document.createElement("div");
    slot.id = form.id;
    form.replaceWith(slot);
    if (typeLi) focusRow($(".type-row", typeLi));
  }

  // --- mouse drag-and-drop ----------------------------------------------------------------
  function onDragStart(event) {
    var row = event.target.closest && event.target.closest(".item-line[draggable='true']");
    if (!row) return;
    var li = row.closest(".item-row");
    event.dataTransfer.setData("text/plain", li.getAttribute("data-uid"));
    event.dataTransfer.effectAllowed = "move";
    li.classList.add("dragging");
  }
  // Where a drag over `event.target` would land: a type (or, for a sub-item, a 三级 item); when
  // that is where the dragged item already is, dropping on a sibling reorders instead.
  function dragTarget(event, dragged) {
    if (!dragged || !event.target.closest) return null;
    return dropTargetOf(event.target, isSubitem(dragged));
  }
  function onDragOver(event) {
    var dragged = $(".item-row.dragging");
    var target = dragTarget(event, dragged);
    if (!target) return;
    event.preventDefault();
    markDrop($(isSubitem(dragged) ? ":scope > .row" : ":scope > .type-row", target));
  }
  function onDrop(event) {
    var dragged = $(".item-row.dragging");
    var target = dragTarget(event, dragged);
    if (!target) return;
    event.preventDefault();
    markDrop(null);
    dragged.classList.remove("dragging");
    var overItem = event.target.closest(".item-row");
    if (target.getAttribute("data-uid") !== dragged.getAttribute("data-type")) {
      moveItem(dragged.getAttribute("data-uid"), target.getAttribute("data-uid"));
    } else if (overItem && overItem !== dragged && overItem.parentElement === dragged.parentElement) {
      var all = $all(":scope > .item-row", overItem.parentElement);
      reorder(dragged, all.indexOf(overItem) - all.indexOf(dragged));
    }
  }
  function onDragEnd() {
    $all(".item-row.dragging").forEach(function (li) { li.classList.remove("dragging"); });
    markDrop(null);
  }

  // --- the dialog (move picker, submit confirmation) --------------------------------------
  function openDialog() {
    var dialog = $("#editor-dialog");
    if (!dialog.open) dialog.showModal();
    var first = $("#picker-search", dialog) || $("button:not([disabled])", dialog);
    if (first) first.focus();
  }
  function closeDialog() {
    var dialog = $("#editor-dialog");
    if (dialog && dialog.open) dialog.close();
  }
  function onPickerSearch(event) {
    if (event.target.id !== "picker-search") return;
    var q = event.target.value.trim().toLowerCase();
    var shown = 0;
    $all("#picker-select option").forEach(function (o) {
      var hit = !q || o.textContent.toLowerCase().indexOf(q) >= 0;
      o.hidden = !hit;
      if (hit && !o.disabled) shown++;
    });
    $all("#picker-select optgroup").forEach(function (g) {
      g.hidden = $all("option", g).every(function (o) { return o.hidden; });
    });
    var empty = $(".picker-empty");
    if (empty) empty.hidden = shown > 0;
    if (shown === 1) {
      var only = $all("#picker-select option").filter(function (o) { return !o.hidden && !o.disabled; })[0];
      $("#picker-select").value = only.value;
    }
  }

  // --- htmx wiring ------------------------------------------------------------------------
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    // Errors arrive as fragments (a re-rendered form, or a message into #flash): show them.
    if (xhr.status >= 400 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    if (xhr.status < 400 && event.detail.target && event.detail.target.id === "workspace") {
      var flash = $("#flash");
      if (flash) flash.innerHTML = "";
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    toast("操作失败（" + event.detail.xhr.status + "），请重试或刷新页面");
  });
  document.addEventListener("htmx:sendError", function () { toast("网络连接失败，请稍后重试"); });

  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.target;
    if (!elt || !elt.id) return;
    if (elt.id === "workspace") {
      closeDialog();
      applyState();
      var changed = elt.getAttribute("data-changed");
      toast(elt.getAttribute("data-message"));
      var report = $("#import-report");
      if (report && event.detail.requestConfig && event.detail.requestConfig.path.indexOf("/imports") > 0) report.innerHTML = "";
      var li = changed && document.getElementById("item-" + changed);
      if (li) { li.scrollIntoView({ block: "nearest" }); focusRow($(".row", li)); }
    } else if (elt.id === "dialog-body") {
      openDialog();
    } else if (elt.id === "flash" && elt.innerHTML.trim()) {
      closeDialog();
      elt.scrollIntoView({ block: "nearest" });
    } else if (elt.id.indexOf("item-") === 0) {
      var input = $("input[name='name']", elt);
      if (input && !$(".field-error", elt)) { input.focus(); input.select(); }
      else if ($("[aria-invalid='true']", elt)) { $("[aria-invalid='true']", elt).focus(); }
      else if (!input) focusRow($(".row", elt));
    } else if (elt.id.indexOf("add-") === 0 && elt.tagName === "FORM") {
      var first = $("[aria-invalid='true']", elt) || $("input[name='name']", elt);
      if (first) first.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var t = event.target;
    if (t.closest(".close-dialog")) { closeDialog(); return; }
    if (t.closest(".order-btn")) {
      reorder(t.closest(".item-row"), parseInt(t.closest(".order-btn").getAttribute("data-delta"), 10));
      return;
    }
    if (t.closest(".cancel-add")) { cancelAdd(t.closest(".add-form")); return; }
    if (t.closest("#dialog-body a.goto")) { closeDialog(); return; }
    var row = t.closest("#tree .row");
    if (row && !t.closest("button")) focusRow(row);
    if (row && row.classList.contains("type-row") && !t.closest("button")) {
      var typeLi = row.closest(".etype");
      setCollapsed(typeLi, !typeLi.classList.contains("collapsed"));
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.id === "show-empty") { showEmpty = event.target.checked; applyState(); }
  });
  document.addEventListener("input", onPickerSearch);
  document.addEventListener("keydown", function (event) {
    if (event.target.closest && event.target.closest("#tree .row") === event.target) { onTreeKey(event); return; }
    onFormKey(event);
    if (event.key === "Enter" && event.target.id === "picker-search") {
      event.preventDefault();
      var select = $("#picker-select");
      if (select.value && !select.selectedOptions[0].hidden) htmx.trigger(select.form, "submit");
      else select.focus();
    }
  });
  document.addEventListener("dragstart", onDragStart);
  document.addEventListener("dragover", onDragOver);
  document.addEventListener("drop", onDrop);
  document.addEventListener("dragend", onDragEnd);
  document.addEventListener("DOMContentLoaded", applyState);
})();
