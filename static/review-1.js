// guidecat review desk: progressive enhancement only; every form works without this file.
(function () {
  // A refused form (422 bad input, 409 stale view, 403 refused decision) comes back as its own
  // partial with the message in place; any other error as a message for #flash (HX-Retarget).
  // Swap them like a success instead of dropping them: never a silent or blank answer.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var html = (xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0;
    if (xhr.status >= 400 && html) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  var timer = null;
  document.body.addEventListener("guidecat:toast", function (event) {
    var toast = document.getElementById("toast");
    if (!toast) return;
    toast.textContent = event.detail.value || "";
    toast.hidden = false;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { toast.hidden = true; }, 4000);
  });

  // After a swap, move focus to the first error, else to the highlighted row, so keyboard and
  // screen-reader users land where the answer is.
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelector) return;
    var invalid = root.querySelector("[aria-invalid='true']");
    if (invalid) { invalid.focus(); return; }
    var changed = root.classList && root.classList.contains("just-changed") ? root : root.querySelector(".just-changed");
    if (changed) {
      if (!changed.hasAttribute("tabindex")) changed.setAttribute("tabindex", "-1");
      changed.focus({ preventScroll: false });
    }
  });

  // j / k move between changes, c opens the comment box of the current one.
  function changes() { return Array.prototype.slice.call(document.querySelectorAll("[data-change]")); }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.ctrlKey || event.metaKey || event.altKey || tag === "input" || tag === "textarea" || tag === "select") return;
    var list = changes();
    if (!list.length) return;
    var at = list.indexOf(document.activeElement);
    if (event.key === "j" || event.key === "k") {
      var next = event.key === "j" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
      list[next].focus();
      list[next].scrollIntoView({ block: "nearest" });
      event.preventDefault();
    } else if (event.key === "c" && at >= 0) {
      var details = list[at].parentElement.querySelector(".item-comments");
      if (details) {
        details.open = true;
        var box = details.querySelector("textarea");
        if (box) box.focus();
        event.preventDefault();
      }
    }
  });
})();
