// Agent console live updates: every element with data-live="URL" is re-fetched from URL whenever the
// server's event stream (data-stream on <body>'s #live element) says something changed. No inline
// script (the CSP forbids it) and no framework: EventSource reconnects by itself.
(function () {
  "use strict";
  var source = document.getElementById("live");
  if (!source || !window.EventSource) { return; }
  function refresh() {
    var parts = document.querySelectorAll("[data-live]");
    Array.prototype.forEach.call(parts, function (part) {
      fetch(part.getAttribute("data-live"), { credentials: "same-origin", headers: { "X-Live": "1" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) { return; }
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("[data-live]");
          if (fresh) { part.innerHTML = fresh.innerHTML; }
          var log = part.querySelector(".history");
          if (log) { log.scrollTop = log.scrollHeight; }
        });
    });
  }
  var events = new EventSource(source.getAttribute("data-stream"));
  events.addEventListener("changed", refresh);
  // on every (re)connection: what changed between the page's render (or the last connection) and the
  // stream's start is in no event, so fetch the parts once
  events.addEventListener("open", refresh);
})();
