// The field pages' behaviour (no inline script: the Content-Security-Policy forbids it).
// A stepper: <div data-stepper><button data-step="-1" aria-controls="ID">…<input id="ID">…
// Without JavaScript the number field still works on its own.
"use strict";

(function () {
  function stepper(box) {
    box.querySelectorAll("button[data-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.getAttribute("aria-controls"));
        if (!input) { return; }
        var min = input.min === "" ? -Infinity : Number(input.min);
        var max = input.max === "" ? Infinity : Number(input.max);
        var value = (parseInt(input.value, 10) || 0) + Number(button.dataset.step);
        input.value = String(Math.min(max, Math.max(min, value)));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  function start() {
    document.querySelectorAll("[data-stepper]").forEach(stepper);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
