/* The portal's usage chart (ECharts): this year's months beside the same months a year before,
   from the data-chart attribute (billing.portal.chart_data). */
(function () {
  var el = document.getElementById("usage-chart");
  if (!el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(el.dataset.chart);
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: {trigger: "axis"},
    legend: {data: data.names, bottom: 0},
    grid: {left: 40, right: 8, top: 10, bottom: 50},
    xAxis: {type: "category", data: data.months.map(function (m) { return m.slice(2); })},
    yAxis: {type: "value"},
    series: [
      {name: data.names[0], type: "bar", data: data.volumes, itemStyle: {color: "#0d6efd"}},
      {name: data.names[1], type: "bar", data: data.last_year, itemStyle: {color: "#adb5bd"}}
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
