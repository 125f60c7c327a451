// 账号安全 pages (ACC-6): copy the enrolment key or the recovery codes, print the codes; around
// django-otp-webauthn's passkey script, what follows a passkey added, and the server's own words
// when it refuses. From a file, as the Content-Security-Policy allows no inline script; elements
// opt in with data attributes or ids.
(function () {
  "use strict";

  // <button data-copy-from="#id" data-copied-label="…">: copies the element's value (an input)
  // or its text (one recovery code a line), then says so on the button for a moment.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy-from]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copyFrom);
    if (!source) return;
    var text = source.value !== undefined && source.tagName !== "OL" ? source.value : source.innerText;
    text = (text || "").trim();
    var done = function () {
      var label = button.dataset.copiedLabel;
      if (!label) return;
      var before = button.innerHTML;
      button.textContent = label;
      button.disabled = true;
      window.setTimeout(function () { button.innerHTML = before; button.disabled = false; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else if (source.select) {
      source.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do: the text is selected */ }
    }
  });

  // <button data-print>: the recovery codes on paper.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-print]");
    if (button) window.print();
  });

  // the code field takes digits only as they are typed (full-width digits become half-width)
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input.otp-input")) return;
    var cleaned = input.value.replace(/[\uFF10-\uFF19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/[^0-9\- ]/g, "");
    if (cleaned !== input.value) input.value = cleaned;
  });

  // A passkey was added (the library's event): the page that follows shows the recovery codes
  // when the person had none (web/security/passkey_add.html's form).
  document.addEventListener("otp_webauthn.register_complete", function () {
    var form = document.getElementById("passkey-added-form");
    if (form) form.submit();
  });

  // The library says "failed" in general words where the server gave a reason (JSON "detail",
  // in Chinese) that it did not read: show the reason instead.
  function showServerReason(statusId) {
    return function (event) {
      var response = event.detail && event.detail.response;
      if (!response || typeof response.json !== "function" || response.bodyUsed) return;
      var type = (response.headers && response.headers.get("content-type")) || "";
      if (type.indexOf("application/json") === -1) return;
      response.json().then(function (body) {
        var status = document.getElementById(statusId);
        if (status && body && typeof body.detail === "string" && body.detail) {
          status.textContent = body.detail;
        }
      }, function () {});
    };
  }
  document.addEventListener("otp_webauthn.register_failed", showServerReason("passkey-register-status-message"));
  document.addEventListener("otp_webauthn.verification_failed", showServerReason("passkey-verification-status-message"));
})();
