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

  // On a narrow screen a legend beside or above the plot squeezes it: put it under the plot, in
  // rows, and make the chart that much taller, so the plot keeps its shape.
  function fitLegend(node, figure) {
    var width = node.clientWidth, layout = figure.layout;
    if (!width || width >= 560 || layout.showlegend === false) { return; }
    var pie = figure.data.some(function (t) { return t.type === "pie"; });
    var count = pie ? (figure.data[0].labels || []).length
      : figure.data.filter(function (t) { return t.name && t.showlegend !== false; }).length;
    if (!count) { return; }
    var extra = count * 19 + 12;  // one entry a row: long names would wrap anyway
    var axes = pie ? 8 : Math.max((layout.margin || {}).b || 40, 76);  // tick labels and axis title
    layout.legend = Object.assign({}, layout.legend, { orientation: "v", x: 0, xanchor: "left", y: 0, yanchor: "bottom", yref: "container" });
    layout.margin = Object.assign({}, layout.margin, { b: axes + extra, t: 8 });
    node.style.height = (node.clientHeight + extra) + "px";
  }

  function drawCharts() {
    if (typeof Plotly === "undefined") { return; }
    var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
    document.querySelectorAll(".chart[data-figure]").forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      fitLegend(node, figure);
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
