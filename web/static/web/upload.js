/* Upload page: Uppy Dashboard + tus to /api/v1/uploads/ (ING-1).
 * The metadata form's values travel as tus Upload-Metadata with every file. */
(function () {
  "use strict";
  var target = document.getElementById("uppy-dashboard");
  var form = document.getElementById("upload-meta");
  if (!target || !form || !window.Uppy) return;

  var lateToggle = document.getElementById("id_is_late");
  var lateFields = document.getElementById("late-fields");
  lateToggle.addEventListener("change", function () {
    lateFields.hidden = !lateToggle.checked;
    if (lateToggle.checked) document.getElementById("id_late_reason").focus();
  });

  var TEXT_FIELDS = ["unit_id", "case_number", "party", "handler", "place", "matter_type", "notes"];
  // "name" and "type" are copied by the Tus plugin to "filename" and "filetype" (tusd convention).
  // "batch" ties every file sent from this page view to its "本次上传" list.
  var META_FIELDS = TEXT_FIELDS.concat(["officer_ids", "late_reason", "late_reason_text", "batch", "name", "type"]);
  var BATCH = target.dataset.batch || "";

  function readMeta() {
    var data = new FormData(form);
    var meta = {};
    TEXT_FIELDS.forEach(function (name) { meta[name] = String(data.get(name) || "").trim(); });
    meta.officer_ids = data.getAll("officer_ids").join(",");
    meta.batch = BATCH;
    if (lateToggle.checked) {
      meta.late_reason = String(data.get("late_reason") || "");
      meta.late_reason_text = String(data.get("late_reason_text") || "").trim();
    } else {
      meta.late_reason = "";
      meta.late_reason_text = "";
    }
    return meta;
  }

  function problem(meta) {
    if (!meta.unit_id) return { msg: form.dataset.msgUnit, field: "id_unit_id" };
    if (lateToggle.checked && !meta.late_reason) return { msg: form.dataset.msgLate, field: "id_late_reason" };
    if (meta.late_reason === "other" && !meta.late_reason_text) return { msg: form.dataset.msgOther, field: "id_late_reason_text" };
    return null;
  }

  var U = window.Uppy;
  var uppy = new U.Uppy({
    id: "avr-upload",
    autoProceed: false,
    locale: U.locales && U.locales.zh_CN,
    onBeforeUpload: function (files) {
      var meta = readMeta();
      var bad = problem(meta);
      if (bad) {
        uppy.info(bad.msg, "error", 6000);
        var field = document.getElementById(bad.field);
        if (field) { field.classList.add("is-invalid"); field.focus(); }
        return false;
      }
      var updated = {};
      Object.keys(files).forEach(function (id) {
        var file = files[id];
        updated[id] = Object.assign({}, file, { meta: Object.assign({}, file.meta, meta) });
      });
      return updated;
    },
  });
  form.addEventListener("input", function (event) { event.target.classList.remove("is-invalid"); });

  uppy.use(U.Dashboard, {
    inline: true,
    target: target,
    width: "100%",
    height: 360,
    theme: "light",
    showProgressDetails: true,
    proudlyDisplayPoweredByUppy: false,
    note: target.dataset.note,
    hideCancelButton: false,
    doneButtonHandler: function () { uppy.cancelAll(); },
  });
  uppy.use(U.Tus, {
    endpoint: target.dataset.endpoint,
    headers: { "X-CSRFToken": target.dataset.csrf },
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
    limit: 3,
    removeFingerprintOnSuccess: true,
    allowedMetaFields: META_FIELDS,
  });

  function refreshList() {
    var list = document.getElementById("ingest-items");
    if (list && window.htmx) window.htmx.trigger(list, "refresh");
  }
  uppy.on("upload-success", refreshList);
  uppy.on("complete", function (result) {
    refreshList();
    if (result.successful && result.successful.length && !(result.failed && result.failed.length)) {
      uppy.info(form.dataset.msgDone, "success", 6000);
    }
  });
})();
