// The upload template editor's controls, over inputs that post the same without JavaScript:
// - tags (input[data-chips], comma-separated) become chips: Enter or a comma adds one, × removes it;
// - a grouped <select data-two-level> (one <optgroup> per main partition) becomes two selects,
//   the main partition, then its sub partitions; the original select stays the one posted;
// - name/value rows ([data-key-value]) get Add and × buttons;
// - the scheduled-publish picker (input[data-clearable]) gets a Clear button.
// htmx.onLoad runs it on the page and again on whatever htmx swaps in (the category field).
(function () {
  "use strict";

  function each(root, selector, enhance) {
    if (root.matches && root.matches(selector)) enhance(root);
    root.querySelectorAll(selector).forEach(enhance);
  }

  function once(element) {
    if (element.hasAttribute("data-enhanced")) return false;
    element.setAttribute("data-enhanced", "");
    return true;
  }

  // The original control stays in the form, posting, but out of sight and out of reach: the
  // control drawn over it is the one to use. It is not `hidden`, so that a script (or a test)
  // may still set it; its "change" then redraws the control over it.
  function tuck(control) {
    control.classList.add("enhanced-source");
    control.tabIndex = -1;
    control.setAttribute("aria-hidden", "true");
  }

  function button(className, text, label) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    if (label) {
      b.setAttribute("aria-label", label);
      b.title = label;
    }
    return b;
  }

  // Tags as chips

  var SEPARATORS = /[,，]/;

  function characters(text) {
    return Array.from(text).length; // code points, as the server counts
  }

  function chips(input) {
    if (!once(input)) return;
    var max = parseInt(input.dataset.max, 10) || 10;
    var maxLength = parseInt(input.dataset.maxLength, 10) || 20;
    var tags = [];

    function read() {
      tags = [];
      input.value.split(SEPARATORS).forEach(function (tag) {
        tag = tag.trim();
        if (tag && tags.indexOf(tag) < 0) tags.push(tag);
      });
    }
    read();

    var box = document.createElement("div");
    box.className = "chips";
    var list = document.createElement("ul");
    list.className = "chip-list";
    var entry = document.createElement("input");
    entry.type = "text";
    entry.className = "chip-entry";
    entry.id = input.id + "_entry";
    entry.placeholder = input.dataset.placeholder || "";
    entry.autocomplete = "off";
    if (input.getAttribute("aria-describedby")) {
      entry.setAttribute("aria-describedby", input.getAttribute("aria-describedby"));
    }
    var count = document.createElement("span");
    count.className = "chip-count";
    var note = document.createElement("span");
    note.className = "chip-note";
    note.setAttribute("role", "status");
    box.append(list, entry, count);
    tuck(input);
    input.after(box, note);
    var label = document.querySelector('label[for="' + input.id + '"]');
    if (label) label.htmlFor = entry.id;
    box.addEventListener("click", function (event) {
      if (event.target === box || event.target === list) entry.focus();
    });

    function render() {
      list.replaceChildren();
      tags.forEach(function (tag, index) {
        var chip = document.createElement("li");
        chip.className = "chip";
        var text = document.createElement("span");
        text.textContent = tag;
        var remove = button("chip-remove", "×", (input.dataset.remove || "%(tag)s").replace("%(tag)s", tag));
        remove.addEventListener("click", function () {
          tags.splice(index, 1);
          say("");
          update();
          entry.focus();
        });
        chip.append(text, remove);
        list.append(chip);
      });
      count.textContent = tags.length + " / " + max;
    }

    var updating = false;

    function update() {
      render();
      input.value = tags.join(",");
      updating = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      updating = false;
    }

    function redraw() {
      if (updating) return;
      read();
      render();
    }
    input.addEventListener("input", redraw);
    input.addEventListener("change", redraw);

    function say(message) {
      note.textContent = message;
      note.classList.toggle("is-error", Boolean(message));
    }

    // Adds the tags in `text`; returns what could not be added, to stay in the entry.
    function add(text) {
      var left = [];
      var message = "";
      text.split(SEPARATORS).forEach(function (tag) {
        tag = tag.trim();
        if (!tag || tags.indexOf(tag) >= 0) return;
        if (characters(tag) > maxLength) {
          message = (input.dataset.tooLong || "").replace("%(tag)s", "'" + tag + "'");
          left.push(tag);
        } else if (tags.length >= max) {
          message = input.dataset.tooMany || "";
          left.push(tag);
        } else {
          tags.push(tag);
        }
      });
      say(message);
      update();
      return left.join(",");
    }

    entry.addEventListener("keydown", function (event) {
      if (event.isComposing || event.keyCode === 229) return; // an IME is composing
      if (event.key === "Enter") {
        event.preventDefault(); // Enter adds a tag; it does not submit the form
        entry.value = add(entry.value);
      } else if (event.key === "Backspace" && !entry.value && tags.length) {
        tags.pop();
        say("");
        update();
      }
    });
    entry.addEventListener("input", function () {
      var value = entry.value;
      var last = Math.max(value.lastIndexOf(","), value.lastIndexOf("，"));
      if (last >= 0) {
        var left = add(value.slice(0, last));
        entry.value = (left ? left + "," : "") + value.slice(last + 1);
      }
    });
    entry.addEventListener("blur", function () {
      if (entry.value.trim()) entry.value = add(entry.value);
    });
    if (input.form) {
      // A tag typed but not yet added is posted too (Enter in another field submits).
      input.form.addEventListener("submit", function () {
        if (entry.value.trim()) entry.value = add(entry.value);
      });
    }
    render();
  }

  // The two-level partition picker

  function twoLevel(select) {
    if (!once(select)) return;
    var entries = [];
    Array.from(select.children).forEach(function (node) {
      if (node.tagName === "OPTGROUP") {
        entries.push({ label: node.label, options: Array.from(node.children) });
      } else if (node.tagName === "OPTION") {
        entries.push({ label: node.textContent, option: node });
      }
    });
    if (!entries.some(function (e) { return e.options; })) return;

    var wrapper = document.createElement("div");
    wrapper.className = "picker";
    var main = document.createElement("select");
    main.id = select.id + "_main";
    main.className = "picker-main";
    var sub = document.createElement("select");
    sub.className = "picker-sub";
    sub.setAttribute("aria-label", select.dataset.childLabel || "");
    entries.forEach(function (e, index) {
      var option = document.createElement("option");
      // An empty choice stays empty, so that `required` still asks for a choice.
      option.value = e.option && !e.option.value ? "" : String(index);
      option.textContent = e.label;
      main.append(option);
    });
    // `required` moves to the visible select: a hidden invalid one cannot be pointed at.
    main.required = select.required;
    select.required = false;
    tuck(select);
    wrapper.append(main, sub);
    select.after(wrapper);
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (label) label.htmlFor = main.id;

    function fillSub(entry) {
      sub.replaceChildren();
      entry.options.forEach(function (original) {
        var option = document.createElement("option");
        option.value = original.value;
        var text = original.textContent;
        var prefix = entry.label + " › ";
        if (text === entry.label) text = select.dataset.wholeLabel || text;
        else if (text.indexOf(prefix) === 0) text = text.slice(prefix.length);
        option.textContent = text;
        option.title = original.title;
        sub.append(option);
      });
      sub.hidden = false;
    }

    function choose(value) {
      select.value = value;
      var chosen = select.selectedOptions[0];
      var help = select.closest(".field") && select.closest(".field").querySelector(".helptext");
      if (help && chosen && chosen.title) help.textContent = chosen.title;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    main.addEventListener("change", function () {
      var entry = entries[main.selectedIndex] || entries[0];
      if (entry.options) {
        fillSub(entry);
        choose(sub.value);
      } else {
        sub.hidden = true;
        choose(entry.option.value);
      }
    });
    sub.addEventListener("change", function () {
      choose(sub.value);
    });

    // Show what the original select holds: now, and whenever it changes.
    function show() {
      var current = select.selectedOptions[0];
      var at = entries.findIndex(function (e) {
        return e.option === current || (e.options && e.options.indexOf(current) >= 0);
      });
      if (at < 0) at = 0;
      main.selectedIndex = at;
      if (entries[at].options) {
        fillSub(entries[at]);
        if (current) sub.value = current.value;
      } else {
        sub.hidden = true;
      }
    }
    select.addEventListener("change", show);
    show();
  }

  // Name/value rows

  function keyValue(group) {
    if (!once(group)) return;
    var rows = group.querySelector(".kv-rows");
    var add = group.querySelector(".kv-add");
    group.querySelectorAll(".kv-remove").forEach(function (b) { b.hidden = false; });
    add.hidden = false;

    function blankRow() {
      var row = rows.querySelector(".kv-row").cloneNode(true);
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      return row;
    }

    add.addEventListener("click", function () {
      var row = blankRow();
      rows.append(row);
      row.querySelector("input").focus();
    });
    rows.addEventListener("click", function (event) {
      var remove = event.target.closest(".kv-remove");
      if (!remove) return;
      var row = remove.closest(".kv-row");
      if (rows.querySelectorAll(".kv-row").length === 1) rows.append(blankRow());
      row.remove();
      add.focus();
    });
  }

  // The scheduled-publish picker

  function clearable(input) {
    if (!once(input)) return;
    var wrapper = document.createElement("div");
    wrapper.className = "schedule";
    var clear = button("schedule-clear", input.dataset.clearable);
    clear.addEventListener("click", function () {
      input.value = "";
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.focus();
    });
    input.before(wrapper);
    wrapper.append(input, clear);
  }

  function enhance(root) {
    each(root, "input[data-chips]", chips);
    each(root, "select[data-two-level]", twoLevel);
    each(root, "[data-key-value]", keyValue);
    each(root, "input[data-clearable]", clearable);
  }

  if (window.htmx) {
    htmx.onLoad(enhance);
  } else {
    document.addEventListener("DOMContentLoaded", function () { enhance(document.body); });
  }
})();
