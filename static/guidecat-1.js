// guidecat: progressive enhancement only; every link works without this file.
// A type that is open closes on the next click instead of loading again.
document.addEventListener("htmx:confirm", function (event) {
  var toggle = event.detail.elt;
  if (!toggle.classList || !toggle.classList.contains("type-toggle")) return;
  if (toggle.getAttribute("aria-expanded") === "true") {
    event.preventDefault();
    var target = document.getElementById(toggle.getAttribute("aria-controls"));
    if (target) target.innerHTML = "";
    toggle.setAttribute("aria-expanded", "false");
  }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var toggle = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (toggle && toggle.classList && toggle.classList.contains("type-toggle")) {
    toggle.setAttribute("aria-expanded", "true");
  }
});
