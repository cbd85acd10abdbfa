// Substance verdicts shown as the officer types: each input with data-live-verdicts is
// identified through POST /api/v1/substances/identify (session cookie and CSRF header, as the
// pages' forms do) a moment after typing stops, and the verdict per jurisdiction is listed in
// the element it names. Saving identifies again on the server; without JavaScript, only then.
"use strict";
(function () {
  var config = document.getElementById("live-verdicts-config");
  if (!config) { return; }
  var labels = JSON.parse(config.getAttribute("data-labels"));
  var DELAY_MS = 500; // after the last keystroke: one request per pause, not per key

  function token(input) {
    var field = input.form && input.form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function say(list, text) {
    list.textContent = "";
    if (text) {
      var item = document.createElement("li");
      item.className = "muted";
      item.textContent = text;
      list.appendChild(item);
    }
  }

  function show(list, result) {
    list.textContent = "";
    if (result.error) { say(list, result.error); return; }
    Object.keys(result.verdicts).forEach(function (code) {
      var status = result.verdicts[code].status;
      var item = document.createElement("li");
      item.setAttribute("data-jurisdiction", code);
      item.appendChild(document.createTextNode(code + " "));
      var badge = document.createElement("span");
      badge.className = "badge status-" + status;
      badge.textContent = labels[status] || status;
      item.appendChild(badge);
      list.appendChild(item);
    });
  }

  document.querySelectorAll("input[data-live-verdicts]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-live-verdicts"));
    var timer = null;
    var pending = null;
    function identifySoon() {
      clearTimeout(timer);
      if (pending) { pending.abort(); pending = null; }
      var query = input.value.trim();
      if (!query) { say(list, ""); return; }
      timer = setTimeout(function () {
        pending = new AbortController();
        var request = pending;
        say(list, config.getAttribute("data-identifying"));
        fetch(config.getAttribute("data-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": token(input) },
          body: JSON.stringify({ query: query }),
          signal: request.signal
        }).then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        }).then(function (answer) {
          show(list, answer.results[0]);
        }).catch(function (error) {
          if (!request.signal.aborted) { say(list, config.getAttribute("data-failed")); }
        });
      }, DELAY_MS);
    }
    input.addEventListener("input", identifySoon);
    // Typed before this script ran (a page still loading) or restored by the browser (Back):
    // no input event reaches us for it, so it is identified now. A stored value is not.
    if (input.value.trim() && input.value !== input.defaultValue) { identifySoon(); }
  });
})();
