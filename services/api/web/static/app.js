// greenplat portal: the little script the pages need; everything also works without it.
(function () {
  "use strict";

  // The phone menu.
  var toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var nav = document.getElementById("nav");
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Forms marked data-live validate as the user types, with the messages the page carries.
  function message(field) {
    var v = field.validity, d = field.dataset;
    if (v.valueMissing) return d.msgRequired || field.validationMessage;
    if (v.tooLong || (field.maxLength > 0 && field.value.length > field.maxLength)) return d.msgTooLong || field.validationMessage;
    if (v.tooShort) return d.msgTooShort || field.validationMessage;
    if (v.rangeUnderflow || v.rangeOverflow || v.stepMismatch || v.badInput) return d.msgRange || field.validationMessage;
    if (v.patternMismatch || v.typeMismatch) return d.msgPattern || field.validationMessage;
    return "";
  }

  function check(field) {
    var out = document.getElementById(field.id + "-error");
    var text = message(field);
    field.classList.toggle("invalid", text !== "");
    field.setAttribute("aria-invalid", text ? "true" : "false");
    if (out) out.textContent = text;
    var counter = document.getElementById(field.id + "-count");
    if (counter && field.maxLength > 0) counter.textContent = field.value.length + " / " + field.maxLength;
    return text === "";
  }

  document.querySelectorAll("form[data-live]").forEach(function (form) {
    var fields = form.querySelectorAll("input[id], textarea[id], select[id]");
    fields.forEach(function (field) {
      field.addEventListener("input", function () { field.classList.add("touched"); check(field); });
      field.addEventListener("blur", function () { field.classList.add("touched"); check(field); });
    });
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.hasAttribute("formnovalidate")) return;
      var ok = true;
      fields.forEach(function (field) { field.classList.add("touched"); ok = check(field) && ok; });
      if (!ok) {
        event.preventDefault();
        var first = form.querySelector(".invalid");
        if (first) first.focus();
      }
    });
  });

  // Slow parts of a page (recommendations) arrive after it; the link inside works without JS.
  document.querySelectorAll("[data-fragment]").forEach(function (box) {
    fetch(box.dataset.fragment, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { box.innerHTML = html; box.setAttribute("data-loaded", "true"); })
      .catch(function () { box.setAttribute("data-loaded", "error"); });
  });

  // Filters that apply as soon as they change (the page allows no inline handlers).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // An import job's page follows the job until it has finished, then shows its report.
  var job = document.querySelector("[data-poll]");
  if (job && !job.querySelector("[data-final]")) {
    var poll = function () {
      fetch(job.dataset.poll, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          job.innerHTML = html;
          if (job.querySelector("[data-final]")) window.location.reload();
          else window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 1000);
  }

  // Buttons that ask before acting.
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
})();

// --- forms: honest length counters (task forms) ---
// A field with data-counter shows "typed / limit" as the writer types. The hard maxlength is
// lifted once the counter runs, so text pasted past the limit is not cut silently: the counter
// turns red, says by how much, and the server refuses it with the text kept.
(function () {
  "use strict";
  document.querySelectorAll("[data-counter]").forEach(function (field) {
    var counter = document.getElementById(field.dataset.counter);
    var limit = field.maxLength > 0 ? field.maxLength : parseInt(field.dataset.max || "0", 10);
    if (!counter || !limit) return;
    field.dataset.max = String(limit);
    field.removeAttribute("maxlength");
    var out = document.getElementById(field.getAttribute("aria-describedby") || "");
    var update = function (typing) {
      var n = field.value.length, over = n - limit;
      counter.textContent = n + " / " + limit;
      counter.classList.toggle("over", over > 0);
      field.classList.toggle("over-limit", over > 0);
      if (!out || typing !== true) return; // on load, the server's message stays
      if (over > 0) out.textContent = (field.dataset.msgOver || "").replace("{n}", over);
      else if (out.dataset.over) out.textContent = "";
      out.dataset.over = over > 0 ? "1" : "";
    };
    field.addEventListener("input", function () { update(true); });
    update(false);
  });
})();
// --- end forms: counters ---
