(function () {
  "use strict";
  var data;
  try {
    data = JSON.parse(document.getElementById("seqcheck-data").textContent);
  } catch (e) {
    data = { files: [], events: [], duration_us: 1 };
  }
  var scroll = document.getElementById("scroll");
  var canvas = document.getElementById("canvas");
  var axis = document.getElementById("axis");
  var tip = document.getElementById("tip");
  var duration = data.duration_us > 0 ? data.duration_us : 1;
  var MAX_WIDTH = 20000000;
  var zoom = 1;

  function baseWidth() { return Math.max(scroll.clientWidth, 1); }
  function width() { return canvas.getBoundingClientRect().width || baseWidth(); }

  // Zooms to `z` times the visible width, keeping the time under `atX` (px from the left of
  // the visible area) where it is.
  function setZoom(z, atX) {
    var maxZoom = Math.max(1, MAX_WIDTH / baseWidth());
    z = Math.min(Math.max(z, 1), maxZoom);
    if (atX === undefined) { atX = scroll.clientWidth / 2; }
    var frac = (scroll.scrollLeft + atX) / width();
    zoom = z;
    canvas.style.width = (z * 100) + "%";
    scroll.scrollLeft = frac * width() - atX;
    drawAxis();
  }

  function niceStep(us) {
    var p = Math.pow(10, Math.floor(Math.log10(us)));
    var m = us / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  // A tick's label in the unit its step calls for, with as many decimals as the step needs.
  function fmt(us, step) {
    var unit = step >= 1e5 ? [1e6, " s"] : step >= 100 ? [1e3, " ms"] : [1, " µs"];
    var decimals = Math.max(0, Math.ceil(-Math.log10(step / unit[0]) - 1e-9));
    return "+" + (us / unit[0]).toFixed(Math.min(decimals, 6)) + unit[1];
  }
  // Ticks for the visible part only, about every 110 px.
  function drawAxis() {
    var w = width();
    var step = niceStep(Math.max(duration * 110 / w, 1));
    var from = Math.max(0, scroll.scrollLeft / w * duration);
    var to = Math.min(duration, (scroll.scrollLeft + scroll.clientWidth) / w * duration);
    var frag = document.createDocumentFragment();
    for (var t = Math.floor(from / step) * step; t <= to + step; t += step) {
      var d = document.createElement("div");
      d.className = "tick";
      d.style.left = (100 * t / duration) + "%";
      d.textContent = fmt(t, step);
      frag.appendChild(d);
    }
    axis.textContent = "";
    axis.appendChild(frag);
  }

  document.getElementById("zoom-in").addEventListener("click", function () { setZoom(zoom * 2); });
  document.getElementById("zoom-out").addEventListener("click", function () { setZoom(zoom / 2); });
  document.getElementById("zoom-fit").addEventListener("click", function () { setZoom(1); });
  document.addEventListener("keydown", function (e) {
    if (e.target && /INPUT|TEXTAREA/.test(e.target.tagName)) { return; }
    if (e.key === "+" || e.key === "=") { setZoom(zoom * 2); }
    else if (e.key === "-") { setZoom(zoom / 2); }
    else if (e.key === "0") { setZoom(1); }
  });
  scroll.addEventListener("wheel", function (e) {
    if (!(e.ctrlKey || e.metaKey)) { return; }
    e.preventDefault();
    var x = e.clientX - scroll.getBoundingClientRect().left;
    setZoom(zoom * Math.pow(1.0025, -e.deltaY), x);
  }, { passive: false });
  scroll.addEventListener("scroll", drawAxis);
  window.addEventListener("resize", function () { setZoom(zoom); });

  // Drag to pan.
  var drag = null;
  scroll.addEventListener("mousedown", function (e) {
    if (e.button !== 0) { return; }
    drag = { x: e.clientX, left: scroll.scrollLeft };
    scroll.classList.add("dragging");
  });
  window.addEventListener("mousemove", function (e) {
    if (drag) { scroll.scrollLeft = drag.left - (e.clientX - drag.x); }
  });
  window.addEventListener("mouseup", function () {
    drag = null;
    scroll.classList.remove("dragging");
  });

  // Tooltips: every event of the hovered operation, as JSON (text only, never markup).
  function describe(el) {
    var parts = [];
    var anomaly = el.getAttribute("data-anomaly");
    if (anomaly) { parts.push("anomaly: " + anomaly + " (events " + el.getAttribute("data-anomaly-refs") + ")"); }
    (el.getAttribute("data-ev") || "").split(" ").forEach(function (k) {
      var item = data.events[Number(k)];
      if (!item) { return; }
      var bits = item.r.split(":");
      var file = data.files[Number(bits[0])] || ("file" + bits[0]);
      parts.push(file + ":" + bits[1] + "\n" + JSON.stringify(item.e, null, 1));
    });
    return parts.join("\n\n");
  }
  canvas.addEventListener("mouseover", function (e) {
    var el = e.target.closest && e.target.closest(".op, .mark");
    if (!el || drag) { tip.hidden = true; return; }
    tip.textContent = describe(el);
    tip.hidden = false;
  });
  canvas.addEventListener("mousemove", function (e) {
    if (tip.hidden) { return; }
    var x = e.clientX + 14, y = e.clientY + 14;
    var r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth) { x = Math.max(0, e.clientX - r.width - 14); }
    if (y + r.height > window.innerHeight) { y = Math.max(0, e.clientY - r.height - 14); }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; });

  // Anomaly links: zoom to the operation holding the event, bring it into view, flash it.
  function findRef(ref) {
    var sel = "[data-refs~=\"" + (window.CSS && CSS.escape ? CSS.escape(ref) : ref) + "\"]";
    return canvas.querySelector(sel);
  }
  function focusRef(ref) {
    var el = findRef(ref);
    if (!el) { return false; }
    var w = width();
    var c = canvas.getBoundingClientRect();
    var r = el.getBoundingClientRect();
    var start = (r.left - c.left) / w, len = Math.max(r.width / w, 1e-9);
    var target = Math.max(zoom, Math.min(0.1 / len, 1e9));
    setZoom(target, 0);
    var nw = width();
    scroll.scrollLeft = (start + len / 2) * nw - scroll.clientWidth / 2;
    drawAxis();
    el.scrollIntoView({ block: "center", inline: "nearest" });
    el.classList.remove("flash");
    void el.offsetWidth;
    el.classList.add("flash");
    return true;
  }
  document.querySelectorAll("a.evlink").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var ref = a.getAttribute("data-ref");
      if (focusRef(ref)) {
        e.preventDefault();
        if (history.replaceState) { history.replaceState(null, "", a.getAttribute("href")); }
      }
    });
  });

  setZoom(1);
  var m = /^#ev-(\d+)-(\d+)$/.exec(location.hash);
  if (m) { focusRef(m[1] + ":" + m[2]); }
  document.body.setAttribute("data-timeline-ready", "true");
})();
