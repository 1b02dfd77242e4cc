// Sextant pages: draw each chart from the Plotly figure the server embedded, submit the view
// form when a preset or filter changes, and mark the page rendered for tests and benchmarks.
(function () {
  "use strict";
  var form = document.getElementById("view");
  if (form) {
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("[data-custom]")) {
        var custom = form.querySelector("input[name=range][value=custom]");
        if (custom) custom.checked = true;
        return;
      }
      if (target.matches("[data-autosubmit]")) {
        if (target.name === "range" && target.value !== "custom") {
          form.querySelectorAll("[data-custom]").forEach(function (i) { i.value = ""; });
        }
        if (target.name !== "range" || target.value !== "custom") form.requestSubmit();
      }
    });
    // Controls outside the form (the page's own) submit it too.
    document.querySelectorAll("[form=view][data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { form.requestSubmit(); });
    });
    form.addEventListener("submit", function () {
      // Keep links short: leave out empty values and the custom dates of a preset.
      var preset = form.querySelector("input[name=range]:checked");
      document.querySelectorAll("#view [name], [form=view][name]").forEach(function (el) {
        var unused = el.value === "" || (el.matches("[data-custom]") && preset && preset.value !== "custom");
        if (unused) el.setAttribute("data-name", el.name), el.removeAttribute("name");
      });
    });
  }
  // Playground: Ctrl+Enter runs the query; saving takes the editor's current text.
  var editor = document.getElementById("sql");
  if (editor) {
    editor.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        editor.form.requestSubmit();
      }
    });
    var save = document.getElementById("save");
    if (save) save.addEventListener("submit", function () {
      save.querySelector("[data-copy-of=sql]").value = editor.value;
    });
  }
  function draw() {
    var charts = document.querySelectorAll("[data-figure]");
    var drawn = [];
    charts.forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      var figure = JSON.parse(source.textContent);
      var config = el.hasAttribute("data-static")
        ? { staticPlot: true, responsive: true }
        : { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
      drawn.push(window.Plotly.newPlot(el, figure.data, figure.layout, config));
    });
    Promise.all(drawn).then(function () { document.body.setAttribute("data-rendered", String(drawn.length)); });
  }
  // Deferred scripts run in order, so Plotly (when the page has charts) is loaded by now.
  if (document.querySelector("[data-figure]")) draw();
  else document.body.setAttribute("data-rendered", "0");
})();
