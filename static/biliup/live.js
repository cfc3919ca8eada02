// Live updates. The server pushes rendered fragments over /ws/pages/ and htmx's ws extension swaps
// each one in by id. A fragment names the lists that show its kind of row (data-list) and sums up
// what would move it between or within lists (data-key: a status, a count of segments). The lists
// on the page (data-live-list) reload themselves through their own hx-get when a fragment has no
// place on the page yet (a new upload) or its key changed (a segment closed, a job finished).
// After a reconnect every live list reloads: pushes may have been missed.
(function () {
  "use strict";
  var timers = {};

  function refresh(list) {
    clearTimeout(timers[list]);
    timers[list] = setTimeout(function () {
      document.querySelectorAll('[data-live-list~="' + list + '"]').forEach(function (el) {
        htmx.trigger(el, "live-refresh");
      });
    }, 150);
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    var fresh = event.detail.fragment && event.detail.fragment.firstElementChild;
    var list = fresh && fresh.getAttribute("data-list");
    if (list && target.getAttribute("data-key") !== fresh.getAttribute("data-key")) refresh(list);
  });

  // A row this page does not show: its lists reload the first time it is pushed and when its
  // key moves, not at every push of the same row (a recording's heartbeat, an upload's
  // progress), which would reload the attention strip on every page each second.
  var unplaced = {};
  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var content = event.detail.content;
    var list = content && content.getAttribute && content.getAttribute("data-list");
    if (!list) return;
    var key = content.getAttribute("data-key");
    if (content.id && key !== null) {
      if (unplaced[content.id] === key) return;
      unplaced[content.id] = key;
    }
    refresh(list);
  });

  // Rows are replaced as they move (pushes, list reloads): a <details> the person opened stays
  // open in the new copy of its row.
  var openDetails = {};
  document.addEventListener("toggle", function (event) {
    var el = event.target;
    if (el.tagName === "DETAILS" && el.id) openDetails[el.id] = el.open;
  }, true);
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root.querySelectorAll) return;
    root.querySelectorAll("details[id]").forEach(function (el) {
      if (openDetails[el.id]) el.open = true;
    });
  });

  var opened = false;
  document.addEventListener("htmx:wsOpen", function () {
    document.getElementById("live-status").hidden = true;
    document.body.dataset.live = "open";
    if (opened) {
      document.querySelectorAll("[data-live-list]").forEach(function (el) {
        el.getAttribute("data-live-list").split(" ").forEach(refresh);
      });
    }
    opened = true;
  });
  document.addEventListener("htmx:wsClose", function () {
    document.getElementById("live-status").hidden = false;
    document.body.dataset.live = "closed";
  });

  // The log page: new lines keep the view at the end, unless the person scrolled up to read.
  var logAtEnd = true;
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var el = event.detail.target;
    if (el.id === "log-lines") logAtEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 50;
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var el = event.detail.target;
    if (el.id === "log-lines" && logAtEnd) el.scrollTop = el.scrollHeight;
  });
})();
