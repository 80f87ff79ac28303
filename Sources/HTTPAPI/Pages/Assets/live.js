// Live updates without reloading: every 2 s, fetch this page again and swap in each part marked
// data-live-part. Stops when a part is marked data-final (a run that ended), when the session is
// gone, or while the tab is hidden; a part with a form being filled in (a field with the focus, an
// opened "Run now") is left alone until it is done.
(function () {
  "use strict";
  if (!document.querySelector("[data-live-part]")) return;
  if (document.querySelector("[data-final]")) return;
  var busy = false;
  function editing(part) {
    var active = document.activeElement;
    if (active && part.contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName)) return true;
    return !!part.querySelector("details[open]");
  }
  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(location.href, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (!response.ok) { clearInterval(timer); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var next = new DOMParser().parseFromString(html, "text/html");
        next.querySelectorAll("[data-live-part]").forEach(function (part) {
          var current = document.getElementById(part.id);
          if (current && !editing(current) && current.innerHTML !== part.innerHTML) current.replaceWith(part);
        });
        if (next.querySelector("[data-final]")) clearInterval(timer);
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  var timer = setInterval(refresh, 2000);
})();
