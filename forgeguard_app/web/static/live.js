// Live pages: listen to the page's event stream and, on any event, reload the
// page's live part from the server (the same access-checked handler as a page view).
(function () {
  "use strict";
  var main = document.getElementById("live");
  if (!main || !main.dataset.events || !window.EventSource) { return; }
  var pending = null;
  function reload() {
    pending = null;
    fetch(window.location.href, { headers: { "X-Live": "1" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        main.innerHTML = html;
        main.dataset.updates = String(Number(main.dataset.updates || "0") + 1);
      })
      .catch(function () {});
  }
  function later() { if (pending === null) { pending = window.setTimeout(reload, 150); } }
  var source = new EventSource(main.dataset.events, { withCredentials: true });
  source.addEventListener("audit", later);
  source.addEventListener("build", later);
  source.addEventListener("denied", function () { source.close(); });
  var opened = 0;
  source.addEventListener("open", function () {
    // after a reconnection, catch up on what happened while the stream was closed
    opened += 1;
    if (opened > 1) { later(); }
    main.dataset.live = "open";
  });
})();
