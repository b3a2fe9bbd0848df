/* The dashboard's trend charts (ECharts): every .gw-trend element's data-chart
   ({kind, x, series: [{name, data}]}), drawn when the fragment arrives (htmx) or is on the page. */
(function () {
  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll(".gw-trend[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      el.dataset.drawn = "1";
      var data = JSON.parse(el.dataset.chart);
      var chart = echarts.init(el);
      chart.setOption({
        tooltip: {trigger: "axis"},
        grid: {left: 8, right: 8, top: 12, bottom: 4, containLabel: true},
        xAxis: {type: "category", data: data.x},
        yAxis: {type: "value"},
        series: data.series.map(function (s) {
          return {type: data.kind === "bar" ? "bar" : "line", name: s.name, data: s.data, smooth: true};
        })
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("htmx:afterSettle", draw);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
