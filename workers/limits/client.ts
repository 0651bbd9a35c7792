/**
 * Who a limit counts: the client's address as Cloudflare saw it
 * (CF-Connecting-IP), with an IPv6 address reduced to its /64. A single
 * subscriber is routinely given a whole /64 and can rotate through its 2^64
 * addresses at will, so counting exact IPv6 addresses would count nothing.
 * Requests without the header (local development, tests) share one client.
 */
export function clientKey(address: string | null | undefined): string {
	if (!address) return "local";
	if (!address.includes(":")) return address;
	return `${ipv6Prefix64(address)}::/64`;
}

/** The first four groups of an IPv6 address, expanded (so "2001:db8::1" and "2001:0db8:0:0::2" agree). */
function ipv6Prefix64(address: string): string {
	// An IPv4-mapped or zone-suffixed address: drop what cannot be part of the prefix.
	const bare = address.toLowerCase().split("%")[0] as string;
	const [head = "", tail] = bare.split("::");
	const groups = head === "" ? [] : head.split(":");
	if (tail !== undefined) {
		const rest = tail === "" ? [] : tail.split(":");
		const missing = Math.max(0, 8 - groups.length - rest.length);
		groups.push(...Array.from({ length: missing }, () => "0"), ...rest);
	}
	return groups
		.slice(0, 4)
		.map((group) => (/^[0-9a-f]{1,4}$/.test(group) ? group.replace(/^0+(?=.)/, "") : "0"))
		.join(":");
}

/** The client key of a request. */
export function clientOf(request: Request): string {
	return clientKey(request.headers.get("cf-connecting-ip"));
}
