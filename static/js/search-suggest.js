// The header search box suggests brands, products and SKUs as a person types: a combobox with a
// listbox of suggestions (ARIA 1.2 pattern). Down and Up move through the suggestions, Enter
// opens the one chosen (or searches for what was typed), Escape closes the list. A polite live
// region says how many suggestions there are. Without JavaScript the box is a plain search.
(function () {
  "use strict";
  var form = document.querySelector("form.header-search[data-suggest-url]");
  if (!form || !window.fetch) { return; }
  var input = form.querySelector("input[name=q]");
  var url = form.getAttribute("data-suggest-url");
  var list = document.createElement("ul");
  var status = document.createElement("p");
  var timer = null;
  var asked = 0;
  var active = -1;
  var options = [];

  list.id = "header-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  form.appendChild(list);
  form.appendChild(status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(index) {
    options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(data) {
    list.textContent = "";
    options = (data.suggestions || []).map(function (item, i) {
      var option = document.createElement("li");
      var kind = document.createElement("span");
      option.id = "suggestion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-url", item.url);
      option.textContent = item.label;
      kind.className = "suggestion-kind";
      kind.textContent = " " + item.kind;
      option.appendChild(kind);
      option.addEventListener("mousedown", function (event) { event.preventDefault(); });
      option.addEventListener("click", function () { window.location.assign(item.url); });
      list.appendChild(option);
      return option;
    });
    active = -1;
    if (options.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = options.length + (options.length === 1 ? " suggestion" : " suggestions") + ": use the arrow keys to choose";
    } else {
      close();
      status.textContent = "";
    }
  }

  function ask() {
    var typed = input.value.trim();
    if (typed.length < 2) { close(); return; }
    var mine = ++asked;
    fetch(url + "?q=" + encodeURIComponent(typed), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (data) { if (mine === asked && document.activeElement === input) { show(data); } })
      .catch(function () { close(); });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden) { if (options.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } return; }
      event.preventDefault();
      // From the box (-1) through each suggestion and back to the box.
      var next = active + (event.key === "ArrowDown" ? 1 : -1);
      if (next >= options.length) { next = -1; }
      if (next < -1) { next = options.length - 1; }
      choose(next);
    } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
      event.preventDefault();
      window.location.assign(options[active].getAttribute("data-url"));
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", close);
})();
