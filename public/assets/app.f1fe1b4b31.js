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
	// Suggestions under the header's search box (GET /v1/search/suggest), as links to
	// the products; arrow keys move through them, Escape closes them. Without script
	// the box is a plain search form.
	const searchForm = document.querySelector("form[data-suggest]");
	const searchBox = searchForm?.querySelector('input[name="q"]');
	const list = searchForm?.querySelector(".suggestions");
	if (searchForm && searchBox && list) {
		const status = document.createElement("p");
		status.className = "visually-hidden";
		status.setAttribute("role", "status");
		searchForm.append(status);
		const answers = new Map();
		let timer;
		let pending;
		const show = (items) => {
			list.replaceChildren(
				...items.map((item) => {
					const link = document.createElement("a");
					link.href = `/p/${encodeURIComponent(item.slug)}`;
					link.textContent = item.title;
					const entry = document.createElement("li");
					entry.append(link);
					return entry;
				}),
			);
			list.hidden = items.length === 0;
			status.textContent = items.length === 0 ? "" : `${items.length} suggestion${items.length === 1 ? "" : "s"}`;
		};
		const suggest = async (text) => {
			if (answers.has(text)) return show(answers.get(text));
			pending?.abort();
			pending = new AbortController();
			const query = new URLSearchParams({ q: text });
			if (searchForm.dataset.suggest) query.set("market", searchForm.dataset.suggest);
			try {
				const res = await fetch(`/v1/search/suggest?${query}`, { signal: pending.signal });
				if (!res.ok) return;
				const { data } = await res.json();
				answers.set(text, data);
				if (searchBox.value.trim() === text) show(data);
			} catch {
				// Aborted by the next keystroke, or offline: the form still submits.
			}
		};
		searchBox.addEventListener("input", () => {
			clearTimeout(timer);
			const text = searchBox.value.trim();
			if (text.length < 2) return show([]);
			timer = setTimeout(() => suggest(text), 150);
		});
		searchForm.addEventListener("keydown", (event) => {
			const links = [...list.querySelectorAll("a")];
			const at = links.indexOf(document.activeElement);
			if (event.key === "ArrowDown" && links.length > 0) {
				event.preventDefault();
				links[(at + 1) % links.length].focus();
			} else if (event.key === "ArrowUp" && at >= 0) {
				event.preventDefault();
				(at === 0 ? searchBox : links[at - 1]).focus();
			} else if (event.key === "Escape" && !list.hidden) {
				show([]);
				searchBox.focus();
			}
		});
		const leave = (target) => {
			if (target && !searchForm.contains(target)) show([]);
		};
		searchForm.addEventListener("focusout", (event) => leave(event.relatedTarget));
		document.addEventListener("click", (event) => leave(event.target));
	}
	// Coming back with the browser's back button shows the page as it was left: re-enable.
	window.addEventListener("pageshow", () => {
		for (const button of document.querySelectorAll("[data-submit-once][disabled]")) {
			button.disabled = false;
			button.removeAttribute("aria-busy");
		}
	});
})();
