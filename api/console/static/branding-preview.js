// Live preview of the branding form: the colours and the name follow the inputs as they change.
// Without JavaScript the form's Preview button renders the same preview on the server.
(function () {
  "use strict";
  var preview = document.querySelector(".preview");
  var form = document.getElementById("branding-form");
  if (!preview || !form) { return; }
  var language = document.documentElement.lang;
  form.addEventListener("input", function (event) {
    var input = event.target;
    var kind = input.getAttribute("data-preview");
    if (kind === "primary") { preview.style.setProperty("--preview-primary", input.value); }
    if (kind === "accent") { preview.style.setProperty("--preview-accent", input.value); }
    if (kind === "name" && input.getAttribute("data-language") === language && input.value) {
      document.getElementById("preview-name").textContent = input.value;
    }
  });
})();
