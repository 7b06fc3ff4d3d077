/* Luotto console: the intake form's assessment kept up to date as facts are typed (issue 22).
   Progressive enhancement only: without this script the form's "Recalculate" button shows the same
   assessment. Served from /console/static (Content-Security-Policy script-src 'self'; no inline
   script). It sends the form as it stands to POST /console/assessment-preview, which stores nothing,
   and puts the server's HTML fragment (escaped by the server's templates) in place. */
(function () {
  "use strict";
  var form = document.getElementById("facts-form");
  var target = document.getElementById("assessment");
  if (!form || !target || !window.fetch || !window.FormData) { return; }
  var timer = null;
  var asked = 0;
  function refresh() {
    var mine = ++asked;
    target.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("data-preview"), {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        if (mine !== asked) { return; }  /* a later answer is on its way */
        target.innerHTML = html;
        target.setAttribute("aria-busy", "false");
        target.setAttribute("data-updated", String(mine));
      })
      .catch(function () { target.setAttribute("aria-busy", "false"); });
  }
  function soon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 400);
  }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
})();
