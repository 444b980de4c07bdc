/* A select2-style dropdown: the real <select> is hidden, a span opens a search box and a list.
   As in select2, the list is attached to <body>, not next to the field. Without testId
   (a page served without data-* attributes) it sets no data-testid either. */
(function () {
  "use strict";
  function attach(select, labelId, testId, placeholder) {
    select.classList.add("select2-hidden-accessible");
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    var box = document.createElement("span");
    box.className = "select2 select2-container";
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-labelledby", labelId);
    box.setAttribute("aria-expanded", "false");
    box.setAttribute("aria-haspopup", "listbox");
    if (testId) box.setAttribute("data-testid", testId);
    box.tabIndex = 0;
    var rendered = document.createElement("span");
    rendered.className = "select2-selection__rendered";
    var arrow = document.createElement("span");
    arrow.className = "select2-arrow";
    arrow.textContent = "▾";
    arrow.setAttribute("aria-hidden", "true");
    box.appendChild(rendered);
    box.appendChild(arrow);
    select.after(box);
    var dropdown = null;
    var active = 0;

    function show() {
      var chosen = select.options[select.selectedIndex];
      rendered.textContent = chosen && chosen.value ? chosen.text : placeholder;
    }
    function items() {
      return dropdown ? Array.prototype.slice.call(dropdown.querySelectorAll("li:not([hidden])")) : [];
    }
    function highlight(index) {
      var list = items();
      list.forEach(function (li, i) {
        li.classList.toggle("select2-results__option--highlighted", i === index);
      });
      active = index;
    }
    function choose(value, text) {
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      rendered.textContent = text;
      close();
      box.focus();
    }
    function close() {
      if (!dropdown) return;
      dropdown.remove();
      dropdown = null;
      box.setAttribute("aria-expanded", "false");
      document.removeEventListener("mousedown", outside, true);
    }
    function outside(event) {
      if (dropdown && !dropdown.contains(event.target) && !box.contains(event.target)) close();
    }
    function open() {
      if (dropdown) return;
      var rect = box.getBoundingClientRect();
      dropdown = document.createElement("span");
      dropdown.className = "select2-dropdown";
      if (testId) dropdown.setAttribute("data-testid", "select2-dropdown");
      dropdown.style.left = rect.left + window.scrollX + "px";
      dropdown.style.top = rect.bottom + window.scrollY + "px";
      dropdown.style.minWidth = rect.width + "px";
      var search = document.createElement("input");
      search.type = "search";
      search.className = "select2-search__field";
      search.setAttribute("aria-label", "Suchen");
      search.autocomplete = "off";
      var list = document.createElement("ul");
      list.setAttribute("role", "listbox");
      list.id = "select2-results-" + Math.floor(Math.random() * 1e6);
      box.setAttribute("aria-controls", list.id);
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) return;
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.className = "select2-results__option";
        li.textContent = option.text;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(option.value, option.text); });
        list.appendChild(li);
      });
      search.addEventListener("input", function () {
        var needle = search.value.toLowerCase();
        list.querySelectorAll("li").forEach(function (li) {
          li.hidden = li.textContent.toLowerCase().indexOf(needle) < 0;
        });
        highlight(0);
      });
      search.addEventListener("keydown", function (event) {
        var shown = items();
        if (event.key === "ArrowDown") { highlight(Math.min(active + 1, shown.length - 1)); event.preventDefault(); }
        else if (event.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); event.preventDefault(); }
        else if (event.key === "Enter") { event.preventDefault(); if (shown[active]) shown[active].click(); }
        else if (event.key === "Escape") { close(); box.focus(); }
      });
      dropdown.appendChild(search);
      dropdown.appendChild(list);
      document.body.appendChild(dropdown);
      box.setAttribute("aria-expanded", "true");
      highlight(0);
      search.focus();
      document.addEventListener("mousedown", outside, true);
    }
    box.addEventListener("click", function () { if (dropdown) close(); else open(); });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " " || event.key === "ArrowDown") {
        event.preventDefault();
        open();
      }
    });
    show();
    return { box: box, close: close };
  }
  window.Select2Lite = { attach: attach };
})();
