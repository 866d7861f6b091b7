// Guided webcam enrolment: each shot is checked by the server (one face,
// size, sharpness), which says why a shot is rejected.
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var video = document.getElementById('video');
  var shots = document.getElementById('shots');
  var finish = document.getElementById('finish');
  var result = document.getElementById('result');
  var need = document.getElementById('need');
  var min = parseInt(need.dataset.min, 10), max = parseInt(need.dataset.max, 10);
  var accepted = 0;
  navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false })
    .then(function (s) { video.srcObject = s; })
    .catch(function (e) { result.textContent = result.dataset.camera + ': ' + e.name + ' ' + e.message; result.className = 'error'; });
  function form() {
    var f = new FormData();
    f.append('employee_id', document.getElementById('employee_id').value);
    f.append('name', document.getElementById('name').value);
    f.append('confirm_reason', document.getElementById('confirm_reason').value);
    return f;
  }
  function post(url, f) {
    return fetch(url, { method: 'POST', body: f, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }
  document.getElementById('capture').addEventListener('click', function () {
    if (accepted >= max) return;
    var c = document.createElement('canvas');
    c.width = video.videoWidth; c.height = video.videoHeight;
    c.getContext('2d').drawImage(video, 0, 0);
    c.toBlob(function (blob) {
      var f = form();
      f.append('shot', blob, 'shot.jpg');
      post('/people/webcam/shot', f).then(function (r) {
        var li = document.createElement('li');
        if (r.body.accepted) {
          accepted = r.body.shots;
          li.textContent = shots.dataset.accepted + ' (' + r.body.face_width + ' px)';
          li.className = 'ok';
        } else {
          li.textContent = shots.dataset.rejected + ': ' + (r.body.reason || r.body.error);
          li.className = 'error';
        }
        shots.appendChild(li);
        finish.disabled = accepted < min;
      });
    }, 'image/jpeg', 0.92);
  });
  finish.addEventListener('click', function () {
    post('/people/webcam/finish', form()).then(function (r) {
      result.textContent = r.ok ? (result.dataset.done + ': ' + r.body.enrolled + ' (' + r.body.templates + ')') : r.body.error;
      result.className = r.ok ? 'ok' : 'error';
      if (r.ok) { result.id = 'result-ok'; }
      var warnings = document.getElementById('warnings');
      (r.body.warnings || []).forEach(function (w) {
        var li = document.createElement('li');
        li.textContent = result.dataset.warning + ': ' + w;
        warnings.appendChild(li);
      });
    });
  });
})();
