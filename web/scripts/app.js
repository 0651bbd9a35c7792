// Progressive enhancement for the storefront: every page works without it.
// Live stock: each [data-live-sku] element subscribes to its SKU's WebSocket
// (GET /v1/inventory/{sku}/live) and shows the availability it pushes.
(() => {
	const LOW = 5;

	function render(el, available) {
		const n = Number(available);
		el.dataset.available = String(n);
		el.dataset.level = n <= 0 ? "out" : n <= LOW ? "low" : "ok";
		el.textContent = n <= 0 ? "Out of stock" : n <= LOW ? `Only ${n} left` : `${n} in stock`;
		const form = el.closest("[data-stock-form]");
		if (form) {
			const input = form.querySelector(`input[value="${CSS.escape(el.dataset.liveSku)}"]`);
			if (input) input.disabled = n <= 0;
		}
	}

	function subscribe(sku, elements, attempt = 0) {
		const scheme = location.protocol === "https:" ? "wss" : "ws";
		const socket = new WebSocket(`${scheme}://${location.host}/v1/inventory/${encodeURIComponent(sku)}/live`);
		socket.addEventListener("open", () => {
			attempt = 0;
		});
		socket.addEventListener("message", (event) => {
			try {
				const data = JSON.parse(event.data);
				if (data && data.sku === sku) for (const el of elements) render(el, data.available);
			} catch {
				// Not ours to read.
			}
		});
		socket.addEventListener("close", () => {
			// Reconnect with backoff while the page stays open.
			const delay = Math.min(30000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
			setTimeout(() => subscribe(sku, elements, attempt + 1), delay);
		});
	}

	const bySku = new Map();
	for (const el of document.querySelectorAll("[data-live-sku]")) {
		const sku = el.dataset.liveSku;
		if (!bySku.has(sku)) bySku.set(sku, []);
		bySku.get(sku).push(el);
	}
	for (const [sku, elements] of bySku) subscribe(sku, elements);

	// Confirm buttons that destroy something (admin console), and buttons that
	// must not be pressed twice (placing an order, paying): the server treats a
	// second press as the same request anyway; this just says it was heard.
	document.addEventListener("submit", (event) => {
		const form = event.target;
		if (!(form instanceof HTMLFormElement)) return;
		if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
			event.preventDefault();
			return;
		}
		const button = form.querySelector("[data-submit-once]");
		if (button) {
			// After this tick, so the submission itself goes ahead.
			setTimeout(() => {
				button.disabled = true;
				button.setAttribute("aria-busy", "true");
			}, 0);
		}
	});
	// The header's "Ship to" picker applies on change; without script its button does.
	document.addEventListener("change", (event) => {
		const select = event.target;
		if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit")) select.form?.requestSubmit();
	});
	// Coming back with the browser's back button shows the page as it was left: re-enable.
	window.addEventListener("pageshow", () => {
		for (const button of document.querySelectorAll("[data-submit-once][disabled]")) {
			button.disabled = false;
			button.removeAttribute("aria-busy");
		}
	});
})();
