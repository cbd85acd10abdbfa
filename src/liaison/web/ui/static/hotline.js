// Hotline live updates: on each event from this node's stream, reload the page's
// #live-region from the server (the server renders it; this script only swaps it in).
(function () {
  "use strict";
  var region = document.getElementById("live-region");
  if (!region || !window.EventSource) { return; }
  var thread = region.getAttribute("data-thread");
  var busy = false;
  var again = false;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-region");
        if (fresh) { region.innerHTML = fresh.innerHTML; }
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
