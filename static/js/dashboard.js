/* Draws every chart on the page from its JSON (Plotly, served locally) and keeps the range form tidy. */
(function () {
  "use strict";
  var TZ_COOKIE = "sy_tz";

  function rememberTimeZone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone) { return; }
    var had = document.cookie.split("; ").some(function (c) { return c.indexOf(TZ_COOKIE + "=") === 0; });
    document.cookie = TZ_COOKIE + "=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    var select = document.querySelector("[data-tz-select]");
    var params = new URLSearchParams(window.location.search);
    // First visit: the server did not know the browser's zone yet. Show the page in it once.
    var stored = document.cookie.indexOf(TZ_COOKIE + "=") >= 0;  // cookies may be off: never loop
    if (!had && stored && select && !params.has("tz") && select.value !== zone) {
      window.location.reload();
    }
  }

  function drawCharts() {
    if (typeof Plotly === "undefined") { return; }
    var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
    document.querySelectorAll(".chart[data-figure]").forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      Plotly.newPlot(node, figure.data, figure.layout, config).then(function () {
        node.setAttribute("data-drawn", "1");
      });
    });
  }

  function rangeForm() {
    document.querySelectorAll("[data-range-select]").forEach(function (select) {
      var custom = select.closest("form").querySelector(".custom-range");
      if (!custom) { return; }
      if (select.value !== "custom") { custom.setAttribute("data-hidden", ""); }
      select.addEventListener("change", function () {
        if (select.value === "custom") { custom.removeAttribute("data-hidden"); }
        else { custom.setAttribute("data-hidden", ""); select.form.submit(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    rememberTimeZone();
    rangeForm();
    drawCharts();
  });
})();
