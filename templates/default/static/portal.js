// Sportello portal: live password requirements, strength bar, show-password toggle.
(function () {
  "use strict";
  var common = ["password", "12345678", "123456789", "qwerty", "qwertyuiop", "juventus", "napoli", "forzainter", "ciao1234",
                "password1", "iloveyou", "admin123", "abc12345", "milano", "roma1234", "passw0rd"];

  function classes(value) {
    return {
      lowercase: /[a-z]/.test(value), uppercase: /[A-Z]/.test(value), letter: /\p{L}/u.test(value),
      digit: /[0-9]/.test(value), symbol: /[^\p{L}0-9]/u.test(value)
    };
  }

  function strength(value) {
    if (!value) { return 0; }
    if (common.indexOf(value.toLowerCase()) >= 0) { return 1; }
    var found = classes(value), kinds = 0;
    ["lowercase", "uppercase", "digit", "symbol"].forEach(function (k) { if (found[k]) { kinds += 1; } });
    var score = 0;
    if (value.length >= 8) { score += 1; }
    if (value.length >= 12) { score += 1; }
    if (kinds >= 3) { score += 1; }
    if (kinds === 4 || value.length >= 16) { score += 1; }
    if (/(.)\1\1/.test(value)) { score -= 1; }
    return Math.max(1, Math.min(4, score));
  }

  function setUp(block) {
    var rules;
    try { rules = JSON.parse(block.getAttribute("data-password-rules")); } catch (e) { return; }
    var input = block.querySelector("input[name=password]");
    if (!input) { return; }
    var bar = block.querySelector(".strength-bar");
    var label = block.querySelector(".strength-label");
    var labels = label ? (label.getAttribute("data-labels") || "").split("|") : [];
    function update() {
      var value = input.value, found = classes(value);
      var met = { min_length: value.length >= rules.minLength, max_length: value.length <= rules.maxLength, personal_data: value.length > 0 };
      rules.require.forEach(function (k) { met[k] = !!found[k]; });
      block.querySelectorAll("[data-requirement]").forEach(function (item) {
        var ok = !!met[item.getAttribute("data-requirement")] && value.length > 0;
        item.classList.toggle("met", ok);
      });
      if (bar) {
        var s = strength(value);
        bar.setAttribute("data-strength", String(s));
        if (label) { label.textContent = value ? (labels[s] || "") : ""; }
      }
    }
    input.addEventListener("input", update);
    update();
    var toggle = block.querySelector(".toggle-password");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var showing = input.type === "text";
        input.type = showing ? "password" : "text";
        toggle.textContent = showing ? toggle.getAttribute("data-show") : toggle.getAttribute("data-hide");
        toggle.setAttribute("aria-pressed", showing ? "false" : "true");
      });
    }
  }

  // Conditional fields of a request form: shown (and sent) only while the field they wait for holds one of the
  // values; the server decides the same way, so without this script every field shows with its "only if" note.
  function conditionalFields(form) {
    var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-when-field]"));
    if (!blocks.length) { return; }
    function valueOf(path) {
      var parts = path.split("."), name = parts[0];
      var block = form.querySelector("[data-when-field] [name='" + name + "']");
      var owner = block ? block.closest("[data-when-field]") : null;
      if (owner && owner.hidden) { return ""; }
      var controls = form.querySelectorAll("[name='" + name + "']");
      var value = "";
      controls.forEach(function (control) {
        if (control.tagName === "SELECT") {
          var option = control.options[control.selectedIndex];
          if (!option || !option.value) { return; }
          value = parts.length > 1 ? (option.getAttribute("data-rf-" + parts[1].replace(/_/g, "-")) || "") : option.value;
        } else if (control.type === "radio" || control.type === "checkbox") {
          if (control.checked) { value = control.value; }
        } else {
          value = control.value.trim();
        }
      });
      return value;
    }
    function update() {
      // Twice, so that a field waiting for a field that just appeared or vanished follows it.
      for (var pass = 0; pass < 2; pass += 1) {
        blocks.forEach(function (block) {
          var value = valueOf(block.getAttribute("data-when-path"));
          var filled = block.getAttribute("data-when-filled"), values = block.getAttribute("data-when-values");
          var show = filled !== null ? (value !== "") === (filled === "true")
            : value !== "" && (values === null || values.split("|").indexOf(value) >= 0);
          block.hidden = !show;
          block.querySelectorAll("input, select, textarea").forEach(function (control) { control.disabled = !show; });
        });
      }
    }
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-password-rules]").forEach(setUp);
    document.querySelectorAll("form").forEach(conditionalFields);
    document.querySelectorAll("[data-reload-on-change]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var url = new URL(window.location.href);
        url.searchParams.set("type", radio.value);
        window.location.assign(url.toString());
      });
    });
  });
})();
