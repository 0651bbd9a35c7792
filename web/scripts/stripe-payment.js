// The Stripe pay page's card form: Stripe's Payment Element, drawn and
// confirmed by Stripe.js, which the page loads from js.stripe.com just before
// this file. Card details stay inside Stripe's frames; all this script passes
// on is what the page put on the form as data- attributes (the CSP allows no
// inline script): the publishable key, the PaymentIntent's client secret and
// the order page to come back to. Whether the order is paid is decided by
// Stripe's webhook on the server, never here.
(() => {
	const form = document.querySelector("form[data-stripe-payment]");
	if (!form) return;
	const button = form.querySelector("button[type=submit]");
	const messages = form.querySelector("[data-payment-messages]");

	function showError(text) {
		const alert = document.createElement("div");
		alert.className = "alert error";
		alert.setAttribute("role", "alert");
		alert.textContent = text;
		messages.replaceChildren(alert);
	}

	if (typeof window.Stripe !== "function") {
		showError("The card form could not be loaded. Please check your connection and reload this page.");
		return;
	}
	const { stripePublishableKey, stripeClientSecret, returnUrl } = form.dataset;
	const stripe = window.Stripe(stripePublishableKey);
	const elements = stripe.elements({ clientSecret: stripeClientSecret });
	const paymentElement = elements.create("payment");
	paymentElement.on("ready", () => {
		button.disabled = false;
	});
	paymentElement.on("loaderror", () => {
		showError("The card form could not be loaded. Please reload this page in a moment.");
	});
	paymentElement.mount(form.querySelector("[data-payment-element]"));

	let paying = false;
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		if (paying) return;
		paying = true;
		button.disabled = true;
		button.setAttribute("aria-busy", "true");
		messages.replaceChildren();
		let message;
		try {
			// Stripe.js runs 3-D Secure itself and, once the payment is confirmed, leaves for return_url.
			const { error } = await stripe.confirmPayment({ elements, confirmParams: { return_url: returnUrl } });
			// Still here: declined, a field incomplete, or Stripe not reached. Stripe's own words for the first two, as it advises.
			message =
				error.type === "card_error" || error.type === "validation_error"
					? error.message
					: "The payment could not be completed. Nothing was charged; please try again.";
		} catch {
			message = "The payment could not be completed. Nothing was charged; please try again.";
		}
		showError(message);
		paying = false;
		button.disabled = false;
		button.removeAttribute("aria-busy");
	});
})();
