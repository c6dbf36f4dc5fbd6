// Dashboards: draw each <canvas data-chart="name"> from the JSON of json_script
// "dashboard-charts" ({name: {labels, values, urls}}) with the vendored Chart.js.
// Bars are told apart by hatching and by their axis labels, not by colour alone; a click on a
// bar opens the list behind it (urls[i]); the numbers are in the table under each chart.
(function () {
  "use strict";

  function hatch(index) {
    // A different pattern per bar: stripes at different angles and spacing, plain dots.
    var size = 10;
    var canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = "#cfe2ff";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "#084298";
    ctx.fillStyle = "#084298";
    ctx.lineWidth = 2;
    var kind = index % 4;
    ctx.beginPath();
    if (kind === 0) {
      ctx.moveTo(0, size);
      ctx.lineTo(size, 0);
    } else if (kind === 1) {
      ctx.moveTo(0, 0);
      ctx.lineTo(size, size);
    } else if (kind === 2) {
      ctx.moveTo(size / 2, 0);
      ctx.lineTo(size / 2, size);
    } else {
      ctx.arc(size / 2, size / 2, 2, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.stroke();
    return ctx.createPattern(canvas, "repeat");
  }

  function draw(canvas, data) {
    var values = data.values.map(Number);
    var chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {
            data: values,
            backgroundColor: values.map(function (_v, i) { return hatch(i); }),
            borderColor: "#084298",
            borderWidth: 1,
          },
        ],
      },
      options: {
        responsive: true,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true } },
        onHover: function (event, elements) {
          var url = elements.length ? data.urls[elements[0].index] : null;
          event.native.target.style.cursor = url ? "pointer" : "default";
        },
        onClick: function (_event, elements) {
          if (!elements.length) return;
          var url = data.urls[elements[0].index];
          if (url) window.location.assign(url);
        },
      },
    });
    canvas.dataset.drawn = "true";
    return chart;
  }

  function init() {
    var source = document.getElementById("dashboard-charts");
    if (!source || !window.Chart) return;
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var data = charts[canvas.dataset.chart];
      if (data) draw(canvas, data);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
