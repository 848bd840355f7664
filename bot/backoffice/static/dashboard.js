// Dashboard charts: each <canvas data-chart="{...}"> gets a Chart.js chart from the JSON the server
// rendered into the attribute. No inline script (the CSP forbids it); Chart.js is vendored next to this.
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var canvases = document.querySelectorAll("canvas[data-chart]");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var config = JSON.parse(canvas.getAttribute("data-chart"));
    var sets = config.data.datasets;
    var twoAxes = sets.some(function (set) { return set.yAxisID === "y1"; });
    if (twoAxes) {  // two measures on one chart: a second axis on the right
      config.options.scales = { y: { beginAtZero: true, position: "left" },
                                y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } };
    }
    canvas.chart = new window.Chart(canvas, config);
  });
})();
