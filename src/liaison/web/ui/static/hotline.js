// Hotline live updates: on each event from this node's stream, reload the page's
// #live-region from the server (the server renders it; this script only swaps it in).
// The region also names the next acknowledgement deadline (#next-due); the page reloads
// the region then, so an overdue flag appears without a reload.
(function () {
  "use strict";
  var region = document.getElementById("live-region");
  if (!region || !window.EventSource) { return; }
  var thread = region.getAttribute("data-thread");
  var busy = false;
  var again = false;
  var deadlineTimer = null;

  function scheduleDeadline() {
    if (deadlineTimer !== null) { window.clearTimeout(deadlineTimer); deadlineTimer = null; }
    var marker = document.getElementById("next-due");
    if (!marker) { return; }
    var wait = Date.parse(marker.getAttribute("data-at")) - Date.now() + 1000;
    // Browsers cap timers near 24.8 days; a page open that long re-checks daily.
    deadlineTimer = window.setTimeout(refresh, Math.min(Math.max(wait, 0), 86400000));
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-region");
        if (fresh) { region.innerHTML = fresh.innerHTML; scheduleDeadline(); }
      })
      .catch(function () { /* the next event or reconnection tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function onEvent(event) {
    if (thread) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (String(data.thread) !== thread) { return; }
    }
    refresh();
  }

  scheduleDeadline();
  var source = new EventSource("/api/v1/events");
  ["thread", "message", "ack", "read"].forEach(function (name) {
    source.addEventListener(name, onEvent);
  });
  var opened = false;
  source.addEventListener("open", function () {
    // After a reconnection, catch up on anything missed while disconnected.
    if (opened) { refresh(); }
    opened = true;
    region.setAttribute("data-live-connected", "1");
  });
}());
