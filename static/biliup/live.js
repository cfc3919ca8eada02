// Live updates. The server pushes rendered fragments over /ws/pages/ and htmx's ws extension swaps
// each one in by id. A fragment for a row this page does not show yet (a new upload, a new
// segment) names its list in data-list; the list on the page (data-live-list) then reloads itself
// through its own hx-get. After a reconnect every live list reloads: pushes may have been missed.
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

  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var content = event.detail.content;
    var list = content && content.getAttribute && content.getAttribute("data-list");
    if (list) refresh(list);
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
})();
