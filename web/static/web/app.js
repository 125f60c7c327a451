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

  document.addEventListener("submit", function (event) {
    if (!confirmed(event.target, event.submitter)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true); // capture: before htmx or any other submit handler

  // <button data-submit-once>: a long action (verify now, sign a checkpoint) is sent once.
  // form.submit() fires no submit event, so a data-confirm is asked here first.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-submit-once]");
    if (!button || !button.form || button.disabled) return;
    event.preventDefault();
    if (!confirmed(button.form, button)) return;
    button.disabled = true;
    button.form.submit();
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
