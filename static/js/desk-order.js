// The orders desk's order page: each line is checked for the chosen clinician, and priced for
// the practice, as it is typed. The result is read out politely (aria-live) and the total the
// desk sees becomes the total it places. Without JavaScript the "Check the lines" button does
// the same on the server.
(function () {
  "use strict";
  var form = document.querySelector("form.desk-order");
  if (!form || !window.fetch) { return; }
  var lines = form.querySelector("textarea[name=lines]");
  var result = document.getElementById("line-check");
  var expected = form.querySelector("input[name=expected_total]");
  var url = form.getAttribute("data-check-url");
  var timer = null;
  var asked = 0; // only the answer to the latest check is shown (answers can arrive out of order)

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }

  function show(data) {
    result.textContent = "";
    if (data.message) {
      var p = document.createElement("p");
      p.className = "field-error";
      p.textContent = data.message;
      result.appendChild(p);
    }
    if (!data.lines || !data.lines.length) { return; }
    var table = document.createElement("table");
    table.className = "data-table line-table";
    var head = table.createTHead().insertRow();
    ["Line", "Product", "Packs", "Unit price", "Total"].forEach(function (name, i) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      if (i > 1) { th.className = "num"; }
      head.appendChild(th);
    });
    var body = table.createTBody();
    data.lines.forEach(function (line) {
      var row = body.insertRow();
      if (line.problem) { row.className = "row-problem"; }
      cell(row, String(line.line));
      var product = cell(row, line.sku ? line.sku + " " + line.product : line.typed);
      if (line.problem) {
        var problem = document.createElement("p");
        problem.className = "field-error";
        problem.textContent = line.problem;
        product.appendChild(problem);
      }
      cell(row, line.quantity ? String(line.quantity) : "", "num");
      cell(row, line.unit_price, "num");
      cell(row, line.problem ? "" : line.total, "num");
    });
    result.appendChild(table);
    if (data.total) {
      var total = document.createElement("p");
      total.className = "check-total";
      total.textContent = (data.ok ? "Total " : "Of the lines that can be ordered, total ") + data.total;
      result.appendChild(total);
    }
    if (data.total_cents !== null && data.total_cents !== undefined) { expected.value = data.total_cents; }
  }

  function check() {
    var chosen = form.querySelector("input[name=clinician_id]:checked");
    if (!chosen || !lines.value.trim()) { return; }
    var body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("practice_id", form.querySelector("input[name=practice_id]").value);
    body.append("clinician_id", chosen.value);
    body.append("lines", lines.value);
    var mine = ++asked;
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) { if (mine === asked) { show(data); } })
      .catch(function () { /* the Check button still works */ });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 400);
  }

  lines.addEventListener("input", soon);
  form.querySelectorAll("input[name=clinician_id]").forEach(function (radio) { radio.addEventListener("change", soon); });
  // Lines already there when the script starts (typed while the page was loading, or restored by
  // the browser on going back) are checked at once.
  if (lines.value.trim()) { check(); }
})();
