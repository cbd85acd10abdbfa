// Hotline attention, on every page of a hotline user (loaded by base.html):
// - the unread badge in the navigation and the count in the tab title, kept live from
//   this node's event stream (/api/v1/events) and the inbox counts (/api/v1/hotline/inbox);
// - opt-in browser notifications (and an optional sound) for urgent and flash messages;
// - on hotline pages, #live-region is reloaded from the server on each event (the server
//   renders it; this script only swaps it in), and again when the next acknowledgement
//   deadline (#next-due) passes, so an overdue flag appears without a reload;
// - read receipts: a thread page reports the received messages that were actually shown
//   (a visible tab, the message on screen), never because a refresh happened in the
//   background.
(function () {
  "use strict";
  var attention = document.getElementById("attention");
  if (!attention || !window.EventSource) { return; }
  var csrf = attention.getAttribute("data-csrf");
  var region = document.getElementById("live-region");
  var thread = region ? region.getAttribute("data-thread") : null;
  var busy = false;
  var again = false;
  var deadlineTimer = null;

  // ------------------------------------------------------------ unread badge and title
  var badge = document.getElementById("nav-unread");
  var baseTitle = document.title.replace(/^\(\d+\) /, "");

  function showUnread(count) {
    document.title = (count > 0 ? "(" + count + ") " : "") + baseTitle;
    if (!badge) { return; }
    badge.textContent = attention.getAttribute("data-unread-text").replace("{n}", String(count));
    badge.hidden = count === 0;
  }

  function refreshCounts() {
    fetch("/api/v1/hotline/inbox", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (inbox) { if (inbox) { showUnread(inbox.unread); } })
      .catch(function () { /* the next event tries again */ });
  }

  // ------------------------------------------------------------ notifications (opt-in)
  var notifyToggle = document.getElementById("notify-toggle");
  var soundToggle = document.getElementById("sound-toggle");

  function setting(name) { try { return window.localStorage.getItem(name) === "1"; } catch (e) { return false; } }
  function store(name, on) { try { window.localStorage.setItem(name, on ? "1" : "0"); } catch (e) { /* private mode */ } }

  if (window.Notification) {
    attention.hidden = false;
    notifyToggle.checked = setting("liaison-notify") && Notification.permission === "granted";
    soundToggle.checked = setting("liaison-sound");
    notifyToggle.addEventListener("change", function () {
      if (!notifyToggle.checked) { store("liaison-notify", false); return; }
      Notification.requestPermission().then(function (permission) {
        notifyToggle.checked = permission === "granted";
        store("liaison-notify", notifyToggle.checked);
      });
    });
    soundToggle.addEventListener("change", function () { store("liaison-sound", soundToggle.checked); });
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    var context = new Context();
    var tone = context.createOscillator();
    tone.frequency.value = 880;
    tone.connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.3);
  }

  function notify(data) {
    if (!data.incoming || (data.priority !== "urgent" && data.priority !== "flash")) { return; }
    if (setting("liaison-sound")) { beep(); }
    if (!window.Notification || Notification.permission !== "granted" || !setting("liaison-notify")) { return; }
    var note = new Notification(attention.getAttribute("data-notify-" + data.priority), {
      body: attention.getAttribute("data-notify-body"),
      tag: "liaison-" + data.thread
    });
    note.onclick = function () { window.focus(); window.location.href = "/hotline/threads/" + data.thread; };
  }

  // ------------------------------------------------------------ read receipts
  function onScreen(element) {
    var box = element.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight && box.height > 0;
  }

  function reportShown() {
    if (!thread || document.visibilityState !== "visible") { return; }
    var shown = [];
    region.querySelectorAll("[data-unread='1']").forEach(function (element) {
      if (onScreen(element)) {
        shown.push(Number(element.getAttribute("data-message-id")));
        element.removeAttribute("data-unread");
      }
    });
    if (shown.length === 0) { return; }
    fetch("/hotline/threads/" + thread + "/shown", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ messages: shown })
    }).then(refreshCounts).catch(function () { /* shown again on the next look */ });
  }

  // ------------------------------------------------------------ live region
  function scheduleDeadline() {
    if (deadlineTimer !== null) { window.clearTimeout(deadlineTimer); deadlineTimer = null; }
    var marker = document.getElementById("next-due");
    if (!marker) { return; }
    var wait = Date.parse(marker.getAttribute("data-at")) - Date.now() + 1000;
    // Browsers cap timers near 24.8 days; a page open that long re-checks daily.
    deadlineTimer = window.setTimeout(refreshRegion, Math.min(Math.max(wait, 0), 86400000));
  }

  function refreshRegion() {
    if (!region) { return; }
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-region");
        if (fresh) { region.innerHTML = fresh.innerHTML; scheduleDeadline(); reportShown(); }
      })
      .catch(function () { /* the next event or reconnection tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refreshRegion(); }
      });
  }

  function onEvent(event) {
    var data = {};
    try { data = JSON.parse(event.data); } catch (e) { return; }
    refreshCounts();
    if (event.type === "thread" || event.type === "message") { notify(data); }
    if (region && (!thread || String(data.thread) === thread)) { refreshRegion(); }
  }

  scheduleDeadline();
  reportShown();
  // A page rendered after a form post carries no count: ask for it.
  if (badge && badge.hasAttribute("data-unknown")) { refreshCounts(); }
  document.addEventListener("visibilitychange", reportShown);
  var scrollTimer = null;
  window.addEventListener("scroll", function () {
    if (scrollTimer === null) { scrollTimer = window.setTimeout(function () { scrollTimer = null; reportShown(); }, 250); }
  }, { passive: true });

  var source = new EventSource("/api/v1/events");
  ["thread", "message", "ack", "read"].forEach(function (name) {
    source.addEventListener(name, onEvent);
  });
  var opened = false;
  source.addEventListener("open", function () {
    // After a reconnection, catch up on anything missed while disconnected.
    if (opened) { refreshCounts(); refreshRegion(); }
    opened = true;
    if (region) { region.setAttribute("data-live-connected", "1"); }
    document.documentElement.setAttribute("data-live-connected", "1");
  });
}());
