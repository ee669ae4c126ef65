// The web app's behaviour, without inline scripts (the Content-Security-Policy forbids them).
// Each feature attaches to elements that ask for it with a data- attribute.
"use strict";

// Confirm before a form is sent: <form data-confirm="text">.
function confirmForms() {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
}

// Count down to a deadline: <time data-countdown datetime="ISO" data-overdue="text">.
function countdowns() {
  var items = document.querySelectorAll("time[data-countdown]");
  if (!items.length) { return; }
  function tick() {
    items.forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      if (left <= 0) { el.textContent = el.dataset.overdue; el.classList.add("overdue"); return; }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (h ? h + " h " : "") + String(m).padStart(2, "0") + " min " +
        String(s).padStart(2, "0") + " s";
    });
  }
  tick();
  window.setInterval(tick, 1000);
}

// A solve in progress: <section data-progress-url="..."> with <progress data-level="5">
// bars and <span data-level-text="5">; reloads the page when the job ends.
function planProgress() {
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.finished) { window.location.reload(); return; }
        var status = box.querySelector("[data-status]");
        if (status) { status.textContent = data.status_text; }
        (data.levels || []).forEach(function (level) {
          var bar = box.querySelector('progress[data-level="' + level.priority + '"]');
          var text = box.querySelector('[data-level-text="' + level.priority + '"]');
          if (bar) { bar.max = Math.max(level.bound, 1); bar.value = level.placed; }
          if (text) { text.textContent = level.text; }
        });
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  poll();
}

// Reload a page when what it shows changed: <body data-watch-url="..." data-watch-version="...">
// (proposals answered, re-plans done).
function watchChanges() {
  var el = document.querySelector("[data-watch-url]");
  if (!el) { return; }
  window.setInterval(function () {
    fetch(el.dataset.watchUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.version !== el.dataset.watchVersion) { window.location.reload(); }
      })
      .catch(function () {});
  }, Number(el.dataset.watchSeconds || 5) * 1000);
}

document.addEventListener("DOMContentLoaded", function () {
  confirmForms();
  countdowns();
  planProgress();
  watchChanges();
});
