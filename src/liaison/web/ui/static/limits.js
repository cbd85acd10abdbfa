// Limits stated before sending: a character counter under each text area with a maximum,
// and a file larger than its field allows is refused before upload (the form keeps its input).
"use strict";
document.querySelectorAll("textarea[maxlength]").forEach(function (area) {
  var counter = document.getElementById(area.id + "-count");
  if (!counter) { return; }
  var template = counter.getAttribute("data-template");
  function update() {
    counter.textContent = template.replace("{n}", String(area.value.length));
  }
  area.addEventListener("input", update);
  update();
});
document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
  var limit = Number(input.getAttribute("data-max-bytes"));
  var message = input.getAttribute("data-too-large");
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    input.setCustomValidity(file && file.size > limit ? message : "");
    input.reportValidity();
  });
});
