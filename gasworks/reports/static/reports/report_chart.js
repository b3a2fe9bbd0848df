/* A report's chart (ECharts) from its data-chart attribute: {kind, x, series: [{name, data}]}.
   kind is line, bar, stacked (bars stacked per series) or pie (the first series by x). */
(function () {
  var el = document.getElementById("report-chart");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.dataset.chart);
  var chart = echarts.init(el);
  var option;
  if (data.kind === "pie") {
    var first = data.series[0] || {data: []};
    option = {tooltip: {trigger: "item"}, legend: {type: "scroll", bottom: 0},
      // On a phone the labels around the ring do not fit: the legend names the slices.
      series: [{type: "pie", radius: ["35%", "65%"], name: first.name, label: {show: el.clientWidth > 480},
        data: data.x.map(function (name, i) { return {name: name, value: first.data[i]}; })}]};
  } else {
    option = {tooltip: {trigger: "axis"}, legend: {type: "scroll", top: 0},
      grid: {left: 60, right: 16, top: 36, bottom: 30, containLabel: true},
      xAxis: {type: "category", data: data.x}, yAxis: {type: "value"},
      series: data.series.map(function (s) {
        return {type: data.kind === "line" ? "line" : "bar", name: s.name, data: s.data,
          stack: data.kind === "stacked" ? "total" : undefined, smooth: data.kind === "line"};
      })};
  }
  chart.setOption(option);
  window.addEventListener("resize", function () { chart.resize(); });
})();
