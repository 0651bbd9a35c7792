/**
 * Which URLs a merchant may register as a webhook endpoint. We POST to these
 * from our Worker, so a URL pointing into a private network would turn the
 * webhook feature into a request-forgery tool (SSRF).
 *
 * The check is on the URL as the WHATWG parser normalises it: `new URL()`
 * already turns the decimal, octal and hex IPv4 spellings
 * (`http://2130706433/`, `http://017700000001/`, `http://0x7f.1/`) into
 * `127.0.0.1`, and IPv6 into its compressed hex form, so one dotted-quad and
 * one IPv6 parser see every literal. Names are refused when they are
 * reserved for local use (`localhost`, `.local`, `.internal` …) or have a
 * single label (`intranet`), which only a local resolver would answer.
 *
 * Why literals and names, not resolved addresses: a Worker cannot resolve a
 * name itself and pin the address it will connect to, so a public name that
 * resolves (or re-resolves, "DNS rebinding") to a private address cannot be
 * caught here. That gap is acceptable because Workers' outbound fetch leaves
 * from Cloudflare's edge to the public Internet: it has no route into
 * Cloudflare's own private networks, or into ours, unless a binding (a
 * Tunnel, a VPC service) is configured for it. The literal check stops the
 * obvious abuse and keeps the rule the same if delivery ever moves to a
 * runtime that can reach private addresses. Deliveries must still not follow
 * redirects (`redirect: "manual"`), which would bypass this check. A public
 * IP literal passes here, though Cloudflare may refuse a subrequest to a bare
 * IP ("Direct IP access not allowed"); that is a delivery failure, not a risk.
 */

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export interface WebhookUrlOptions {
	/** Accept `http:` as well as `https:`; for development and tests, never in production. */
	allowHttp?: boolean;
}

const MAX_URL_LENGTH = 2048;

/** Names reserved for local networks or the host itself (RFC 6761, RFC 6762, RFC 8375, cloud metadata). */
const LOCAL_NAMES = ["localhost", "local", "internal", "localdomain", "home.arpa"];

/**
 * IPv4 blocks no webhook may target: the IANA special-purpose registry's
 * non-global entries, plus multicast and the reserved 240/4 (which holds the
 * limited broadcast address).
 */
const BLOCKED_IPV4: readonly [string, number, string][] = [
	["0.0.0.0", 8, "this-network"],
	["10.0.0.0", 8, "private"],
	["100.64.0.0", 10, "shared (CGNAT)"],
	["127.0.0.0", 8, "loopback"],
	["169.254.0.0", 16, "link-local"],
	["172.16.0.0", 12, "private"],
	["192.0.0.0", 24, "IETF protocol assignments"],
	["192.0.2.0", 24, "documentation"],
	["192.88.99.0", 24, "6to4 relay"],
	["192.168.0.0", 16, "private"],
	["198.18.0.0", 15, "benchmarking"],
	["198.51.100.0", 24, "documentation"],
	["203.0.113.0", 24, "documentation"],
	["224.0.0.0", 4, "multicast"],
	["240.0.0.0", 4, "reserved or broadcast"],
];

/**
 * Checks a webhook endpoint URL before it is stored and again before each
 * delivery (the rules may have tightened since). Returns the parsed URL to
 * deliver to, or a reason fit to show the merchant.
 */
export function checkWebhookUrl(url: string, options: WebhookUrlOptions = {}): WebhookUrlCheck {
	if (url.length > MAX_URL_LENGTH) return refuse(`The URL is longer than ${MAX_URL_LENGTH} characters.`);
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return refuse("The URL is not a valid absolute URL.");
	}
	if (parsed.protocol !== "https:" && !(options.allowHttp && parsed.protocol === "http:")) {
		return refuse(options.allowHttp ? "The URL must use https or http." : "The URL must use https.");
	}
	if (parsed.username || parsed.password) return refuse("The URL must not contain a user name or password.");

	const host = parsed.hostname;
	if (host.startsWith("[")) {
		const blocked = blockedIpv6(host.slice(1, -1));
		return blocked ? refuse(`The URL points at a non-public IPv6 address (${blocked}).`) : { ok: true, url: parsed };
	}
	const ipv4 = parseIpv4(host);
	if (ipv4 !== undefined) {
		const blocked = blockedIpv4(ipv4);
		return blocked ? refuse(`The URL points at a non-public IPv4 address (${blocked}).`) : { ok: true, url: parsed };
	}

	// `localhost.` is `localhost`: a trailing dot only makes a name fully qualified.
	const name = host.replace(/\.$/, "");
	if (!name.includes(".") && !LOCAL_NAMES.includes(name)) return refuse("The host name must be a fully qualified domain name.");
	if (LOCAL_NAMES.some((local) => name === local || name.endsWith(`.${local}`))) {
		return refuse("The URL points at a host name reserved for local networks.");
	}
	return { ok: true, url: parsed };
}

function refuse(reason: string): WebhookUrlCheck {
	return { ok: false, reason };
}

/** A dotted quad as the URL parser serialises IPv4 hosts, as a 32-bit number. */
function parseIpv4(host: string): number | undefined {
	const parts = host.split(".");
	if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
	return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function blockedIpv4(address: number): string | undefined {
	for (const [base, prefix, label] of BLOCKED_IPV4) {
		const size = 2 ** (32 - prefix);
		const start = parseIpv4(base) as number;
		if (address >= start && address < start + size) return label;
	}
	return undefined;
}

/**
 * Only global unicast (2000::/3) is allowed, which excludes at once the
 * unspecified and loopback addresses, IPv4-mapped and -compatible forms
 * (::ffff:127.0.0.1 is 127.0.0.1), NAT64, link-local fe80::/10, unique-local
 * fc00::/7 and multicast. Inside 2000::/3, the blocks that are not ordinary
 * hosts, or that embed an IPv4 address we could not vouch for, are refused too.
 */
function blockedIpv6(literal: string): string | undefined {
	const groups = parseIpv6(literal);
	if (!groups) return "malformed";
	const [a = 0, b = 0] = groups;
	if (groups.every((g) => g === 0)) return "unspecified";
	if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return "loopback";
	if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0)) return "IPv4-mapped";
	if ((a & 0xffc0) === 0xfe80) return "link-local";
	if ((a & 0xfe00) === 0xfc00) return "unique-local";
	if ((a & 0xff00) === 0xff00) return "multicast";
	if ((a & 0xe000) !== 0x2000) return "non-global";
	if (a === 0x2001 && b === 0x0db8) return "documentation";
	if (a === 0x3fff && (b & 0xf000) === 0) return "documentation";
	if (a === 0x2001 && b < 0x0200) return "IETF protocol assignment (Teredo, ORCHID …)";
	if (a === 0x2002) return "6to4";
	return undefined;
}

/** Eight 16-bit groups, from the compressed form the URL parser produces (a dotted IPv4 tail is accepted too). */
function parseIpv6(literal: string): number[] | undefined {
	const halves = literal.split("::");
	if (halves.length > 2) return undefined;
	const toGroups = (part: string): number[] | undefined => {
		if (part === "") return [];
		const groups: number[] = [];
		for (const piece of part.split(":")) {
			if (/^[0-9a-f]{1,4}$/i.test(piece)) {
				groups.push(Number.parseInt(piece, 16));
			} else {
				const v4 = parseIpv4(piece);
				if (v4 === undefined) return undefined;
				groups.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
			}
		}
		return groups;
	};
	const head = toGroups(halves[0] ?? "");
	const tail = halves.length === 2 ? toGroups(halves[1] ?? "") : [];
	if (!head || !tail) return undefined;
	if (halves.length === 1) return head.length === 8 ? head : undefined;
	const missing = 8 - head.length - tail.length;
	return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}
