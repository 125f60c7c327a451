// Behaviour for every page, from a file: the Content-Security-Policy allows no inline script
// or event-handler attribute (ACC-6). Elements opt in with data attributes.
(function () {
  "use strict";

  // <select data-autosubmit> / <input data-autosubmit>: a filter applies as soon as it changes
  // (its form, also when the element names it with form="…").
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit();
  });

  // <form data-confirm="…"> (or a submit button with data-confirm, when only that button of
  // its form needs it): a step that cannot be undone (撤回, 驳回, 撤销授权) asks first; cancelling
  // sends nothing. The button's own message wins over the form's.
  function confirmed(form, submitter) {
    var message = submitter && submitter.getAttribute("data-confirm");
    if (!message && form) message = form.getAttribute("data-confirm");
    return !message || window.confirm(message);
  }

  // <form data-submit-once> (or a submit button with data-submit-once): a long or one-time
  // action (verify now, sign a checkpoint, approve) is sent once. The browser's own submission
  // is kept — the pressed button's formaction, name and value, the fields' validation — and a
  // second press while it is under way sends nothing.
  function once(form, submitter) {
    return form.hasAttribute("data-submit-once") || !!(submitter && submitter.hasAttribute("data-submit-once"));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target, submitter = event.submitter;
    if (!confirmed(form, submitter) || (once(form, submitter) && form.dataset.submitting)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (!once(form, submitter)) return;
    form.dataset.submitting = "1";
    // after the form data is taken (a disabled button's name and value would not be sent)
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
    }, 0);
  }, true); // capture: before htmx or any other submit handler

  // Back to a page from the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = false; });
    });
  });

  // <form data-no-submit>: fields read by script (the upload page), never sent as a form.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[data-no-submit]")) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector("#edit .is-invalid");
    if (invalid) invalid.focus();

    // ACC-2: a play is registered when playback starts, not when the page preloads metadata.
    document.querySelectorAll("[data-play-url]").forEach(function (media) {
      var sent = false;
      media.addEventListener("play", function () {
        if (sent) return;
        sent = true;
        fetch(media.dataset.playUrl, {
          method: "POST",
          body: new URLSearchParams({ t: media.dataset.playToken }),
          credentials: "same-origin",
          headers: { "X-CSRFToken": media.dataset.csrf },
        }).then(function (response) {
          if (!response.ok) return;
          var note = document.getElementById("access-note");
          if (note) {
            note.querySelector("[data-viewed]").hidden = true;
            note.querySelector("[data-played]").hidden = false;
          }
          var tab = document.querySelector("#tab-access [hx-get]");
          if (tab && window.htmx) window.htmx.trigger(tab, "click");
        });
      });
    });
  });
})();
