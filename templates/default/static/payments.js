// Online payment page: while the payment waits for the provider's confirmation, ask the portal for its status every few
// seconds (no inline script under the portal's Content-Security-Policy, and no timed page refresh, which would interrupt
// whoever is reading); when the status changes, load the page again once, so it says what happened.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-payment-poll]");
    if (!box || !window.fetch) { return; }
    var url = box.getAttribute("data-payment-poll"), waiting = box.getAttribute("data-payment-status"), tries = 0;
    function ask() {
      tries += 1;
      if (tries > 200) { return; }  // ten minutes: the "Aggiorna" link remains
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (payment) {
          if (payment && payment.status && payment.status !== waiting) { window.location.reload(); } else { window.setTimeout(ask, 3000); }
        })
        .catch(function () { window.setTimeout(ask, 3000); });
    }
    window.setTimeout(ask, 2000);
  });
})();
