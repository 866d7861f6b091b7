// The door's web keypad on a paired tablet: digits are kept here and sent
// on Enter; the status line then follows the door's decision.
(function () {
  var pad = document.getElementById('keypad');
  if (!pad) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById('status'), dots = document.getElementById('dots');
  var digits = '', last = null, timer = null, idleAt = 0;
  function show() { dots.textContent = digits.replace(/./g, '●'); }
  function setStatus(s) {
    status.textContent = s.text;
    pad.className = 'keypad state-' + s.state;
  }
  function poll() {
    var q = last ? '?at=' + last.at + '&after=' + last.after : '';
    fetch('/keypad/state' + q, {credentials: 'same-origin'}).then(function (r) {
      if (r.status === 401) { location.reload(); return null; }
      return r.json();
    }).then(function (s) {
      if (!s) return;
      setStatus(s);
      if (last && ['granted', 'denied', 'wrong', 'locked', 'nopin', 'idle'].indexOf(s.state) >= 0) {
        last = null; idleAt = Date.now() + 6000; // the outcome stays a few seconds
      }
    }).catch(function () {});
  }
  function tick() {
    if (!last && idleAt && Date.now() < idleAt) return;
    idleAt = 0;
    poll();
  }
  function send() {
    if (!digits) return;
    var body = new URLSearchParams({pin: digits});
    digits = ''; show();
    fetch('/keypad/pin', {method: 'POST', credentials: 'same-origin', body: body,
      headers: {'X-CSRF-Token': csrf}}).then(function (r) { return r.json(); }).then(function (j) {
      if (j.at) { last = j; idleAt = 0; poll(); }
    });
  }
  pad.addEventListener('click', function (e) {
    var k = e.target.getAttribute('data-key');
    if (!k) return;
    if (k === 'enter') send();
    else if (k === 'clear') digits = '';
    else if (digits.length < 8) digits += k;
    show();
  });
  timer = setInterval(tick, 700);
  poll();
})();
