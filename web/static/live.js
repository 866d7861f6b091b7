// Live camera (MJPEG, started after load so the endless stream does not
// hold the page's load event), decisions over server-sent events drawn
// over the video in the browser (so names in any script show: OpenCV's
// fonts are ASCII only), and the camera state polled from /healthz.
window.addEventListener('load', function () {
  var cam = document.getElementById('camera');
  if (cam && cam.dataset.src) cam.src = cam.dataset.src;
});
(function () {
  var table = document.getElementById('decisions');
  var body = document.querySelector('#decisions tbody');
  var cam = document.getElementById('camera');
  var overlay = document.getElementById('overlay');
  if (!table || !body) return;
  // The reader's words for codes (the page's language), else the code.
  var labels = JSON.parse(table.dataset.labels || '{}');
  function label(prefix, v) { return labels[prefix + v] || v; }
  function who(d) { return d.person === 'unknown' ? labels.unknown : (d.person || '-'); }
  // granted green, a known person denied red, an unknown face grey.
  function kind(d) { return d.granted ? 'granted' : (d.person === 'unknown' || !d.person ? 'unknown' : 'denied'); }

  function row(d) {
    var tr = document.createElement('tr');
    tr.className = kind(d);
    [d.time, who(d), label('code.', d.result), d.distance, label('liveness.', d.liveness)].forEach(function (v) {
      var td = document.createElement('td');
      td.textContent = v === undefined ? '' : String(v);
      tr.appendChild(td);
    });
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 20) body.removeChild(body.lastChild);
  }

  // box reads the face box (image.Rectangle's JSON: Min and Max points,
  // in frame pixels) as percentages of the frame: the decision's frame
  // size if it carries one, else the preview image's own (the preview is
  // the frame, unscaled). null when there is no box to draw.
  function box(d) {
    var b = d.box;
    if (!b || !b.Min || !b.Max) return null;
    var w = (d.frame && d.frame.w) || cam.naturalWidth, h = (d.frame && d.frame.h) || cam.naturalHeight;
    if (!w || !h || b.Max.X <= b.Min.X || b.Max.Y <= b.Min.Y) return null;
    return { left: 100 * b.Min.X / w, top: 100 * b.Min.Y / h,
      width: 100 * (b.Max.X - b.Min.X) / w, height: 100 * (b.Max.Y - b.Min.Y) / h };
  }

  // mark draws a decision over the video for a few seconds: a box with
  // its label where the face is, or a banner when the decision has no box.
  function mark(d) {
    if (!overlay) return;
    var el = document.createElement('div');
    var text = document.createElement('span');
    text.textContent = kind(d) === 'unknown' ? labels.unknown : who(d) + ' · ' + label('code.', d.result);
    el.appendChild(text);
    var r = box(d);
    el.className = 'mark ' + kind(d) + (r ? ' box' : ' banner');
    if (r) {
      el.style.left = r.left + '%'; el.style.top = r.top + '%';
      el.style.width = r.width + '%'; el.style.height = r.height + '%';
    }
    overlay.appendChild(el);
    while (overlay.children.length > 6) overlay.removeChild(overlay.firstChild);
    setTimeout(function () { el.remove(); }, 5000);
  }

  if (window.EventSource) {
    var es = new EventSource(table.dataset.events || '/events/stream');
    es.addEventListener('recent', function (ev) { row(JSON.parse(ev.data)); });
    es.addEventListener('decision', function (ev) { var d = JSON.parse(ev.data); row(d); mark(d); });
  }

  // A door watched through the central: "waiting for the door…" until
  // its first frame is drawn.
  var waiting = document.getElementById('waiting'), offline = document.getElementById('offline');
  if (waiting && cam) {
    var seen = setInterval(function () {
      if (cam.naturalWidth > 0) { waiting.hidden = true; clearInterval(seen); }
    }, 250);
  }

  // The camera's state every 5 s (on a central: the door's, and whether
  // it is heard from); stops when the session has ended.
  var state = document.getElementById('state'), problem = document.getElementById('source-error');
  var poll = setInterval(function () {
    fetch(table.dataset.state || '/healthz', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (h) {
        if (!('source_state' in h)) { clearInterval(poll); return; }
        state.textContent = label('source.', h.source_state);
        problem.textContent = h.source_error || '';
        if (offline && 'online' in h) offline.hidden = h.online;
      }).catch(function () {});
  }, 5000);
})();
