// The privacy page's print button (no inline script under the CSP).
(function () {
  var b = document.getElementById('print');
  if (b) b.addEventListener('click', function () { window.print(); });
})();
