// The card step of a top-up: Stripe.js takes the card straight to Stripe (confirmCardSetup), then
// the form tells Hubtab to charge it. On the result page, the bank's check (confirmCardPayment).
(function () {
  "use strict";
  const box = document.getElementById("card-payment");
  if (box) {
    const stripe = Stripe(box.dataset.key);
    const card = stripe.elements().create("card");
    card.mount("#card-element");
    const form = document.getElementById("pay-form");
    const button = document.getElementById("pay-button");
    const error = document.getElementById("card-error");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      error.hidden = true;
      const result = await stripe.confirmCardSetup(box.dataset.secret, { payment_method: { card: card } });
      if (result.error) {
        error.textContent = result.error.message || box.dataset.declined;
        error.hidden = false;
        button.disabled = false;
        return;
      }
      form.submit();
    });
  }
  const check = document.getElementById("bank-check");
  if (check) {
    const stripe = Stripe(check.dataset.key);
    document.getElementById("bank-check-button").addEventListener("click", async function () {
      await stripe.confirmCardPayment(check.dataset.secret);
      window.location.assign(check.dataset.returnUrl);
    });
  }
})();
