/* The meter page's consumption chart (ECharts), from the data-chart attribute. */
(function () {
  var el = document.getElementById("chart"); var data = JSON.parse(el.dataset.chart);
  var chart = echarts.init(el);
  chart.setOption({tooltip: {trigger: "axis"}, grid: {left: 50, right: 10, top: 10, bottom: 30},
    xAxis: {type: "category", data: data.months}, yAxis: {type: "value"},
    series: [{type: "bar", data: data.volumes, itemStyle: {color: "#0d6efd"}}]});
  window.addEventListener("resize", function () { chart.resize(); });
})();
