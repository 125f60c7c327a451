// The activity page's timeline (web/templates/web/activities/_timeline.html): the chart itself is
// drawn on the server as an SVG; this file only adds what a pointer or a key does with it. No
// inline script or style: the Content-Security-Policy forbids them (ACC-6).
//
// - A gap ([data-gap] in the chart, or a [data-gap-fill] button under it): its start and end go
//   into the interruption forms' [data-gap-field=start|end] inputs, and the form comes into view
//   with its reason selected for typing.
// - A recording's lane and its row in the table of linked recordings light up together.
(function () {
  "use strict";

  function fillGap(source) {
    var start = source.getAttribute("data-gap-start");
    var end = source.getAttribute("data-gap-end");
    var forms = document.getElementById("interruption-forms");
    if (!start || !end || !forms) return;
    forms.querySelectorAll("[data-gap-field=start]").forEach(function (input) { input.value = start; });
    forms.querySelectorAll("[data-gap-field=end]").forEach(function (input) { input.value = end; });
    forms.scrollIntoView({ behavior: "smooth", block: "start" });
    var pane = forms.querySelector(".tab-pane.active") || forms;
    var focus = pane.querySelector("[data-gap-focus]");
    if (focus) window.setTimeout(function () { focus.focus({ preventScroll: true }); }, 300);
  }

  function gapOf(target) {
    return target && target.closest ? target.closest("[data-gap], [data-gap-fill]") : null;
  }

  document.addEventListener("click", function (event) {
    var gap = gapOf(event.target);
    if (gap) fillGap(gap);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    var gap = event.target && event.target.matches && event.target.matches("[data-gap]") ? event.target : null;
    if (!gap) return;
    event.preventDefault();
    fillGap(gap);
  });

  function highlight(lane, on) {
    var id = lane.getAttribute("data-recording-id");
    var bar = lane.querySelector("[data-bar]");
    if (bar) {
      if (on) {
        bar.setAttribute("stroke", "#1d273b");
        bar.setAttribute("stroke-width", "2");
      } else {
        bar.removeAttribute("stroke");
        bar.removeAttribute("stroke-width");
      }
    }
    document.querySelectorAll("[data-recording-row='" + id + "']").forEach(function (row) {
      row.classList.toggle("table-active", on);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-timeline] .timeline-lane[data-recording-id]").forEach(function (lane) {
      lane.addEventListener("mouseenter", function () { highlight(lane, true); });
      lane.addEventListener("mouseleave", function () { highlight(lane, false); });
    });
    document.querySelectorAll("[data-recording-row]").forEach(function (row) {
      var id = row.getAttribute("data-recording-row");
      var lane = document.querySelector("[data-timeline] .timeline-lane[data-recording-id='" + id + "']");
      if (!lane) return;
      row.addEventListener("mouseenter", function () { highlight(lane, true); });
      row.addEventListener("mouseleave", function () { highlight(lane, false); });
    });
  });
})();
