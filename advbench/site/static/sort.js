// Sort any table of class "sortable" by clicking a column heading: numbers by value (the cell's
// data-value, or its text), empty cells last; a second click reverses the order. No dependencies.
(function () {
  "use strict";

  function key(cell) {
    var text = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    text = text.trim();
    var number = text === "" ? NaN : Number(text);
    return { empty: text === "", number: number, text: text.toLowerCase() };
  }

  function compare(a, b, numeric) {
    if (a.empty !== b.empty) return a.empty ? 1 : -1;
    if (numeric) return a.number - b.number;
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  }

  function sortBy(table, index, heading) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (row) { return key(row.cells[index]); });
    var numeric = keys.every(function (k) { return k.empty || !isNaN(k.number); });
    var descending = heading.getAttribute("aria-sort") === "ascending";
    var order = rows.map(function (row, i) { return i; });
    order.sort(function (i, j) {
      var found = compare(keys[i], keys[j], numeric);
      if (descending && !(keys[i].empty || keys[j].empty)) found = -found;
      return found || i - j;
    });
    Array.prototype.forEach.call(heading.parentNode.cells, function (th) { th.removeAttribute("aria-sort"); });
    heading.setAttribute("aria-sort", descending ? "descending" : "ascending");
    order.forEach(function (i) { body.appendChild(rows[i]); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, index) {
        heading.addEventListener("click", function () { sortBy(table, index, heading); });
      });
    });
  });
})();
