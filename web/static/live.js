// Live camera (MJPEG, started after load so the endless stream does not
// hold the page's load event) and decisions over server-sent events.
window.addEventListener('load', function () {
  var cam = document.getElementById('camera');
  if (cam && cam.dataset.src) cam.src = cam.dataset.src;
});
(function () {
  var body = document.querySelector('#decisions tbody');
  if (!body || !window.EventSource) return;
  // The reader's words for codes (the page's language), else the code.
  var labels = JSON.parse(document.getElementById('decisions').dataset.labels || '{}');
  function label(prefix, v) { return labels[prefix + v] || v; }
  var es = new EventSource('/events/stream');
  es.addEventListener('decision', function (ev) {
    var d = JSON.parse(ev.data);
    var tr = document.createElement('tr');
    tr.className = d.granted ? 'granted' : 'denied';
    var who = d.person === 'unknown' ? labels.unknown : (d.person || '-');
    [d.time, who, label('code.', d.result), d.distance, label('liveness.', d.liveness)].forEach(function (v) {
      var td = document.createElement('td');
      td.textContent = v === undefined ? '' : String(v);
      tr.appendChild(td);
    });
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > 20) body.removeChild(body.lastChild);
  });
})();
