/**
 * The direction of dependencies (`npm run lint:deps`, part of `npm run lint`):
 * the HTTP surfaces (`workers/api`, `workers/web`) depend on services; nothing
 * else in the Worker or the Durable Objects depends on a surface, and no
 * module is part of an import cycle.
 */
module.exports = {
	forbidden: [
		{
			name: "no-surface-imports",
			severity: "error",
			comment:
				"Services, domain rules, the database layer, queues and Durable Objects never import an HTTP surface (workers/api, workers/web). Throw a DomainError (workers/domain/errors.ts); the surfaces map it.",
			from: { path: "^(workers|durable-objects)/", pathNot: "^workers/(api|web)/|^workers/index\\.ts$" },
			to: { path: "^workers/(api|web)/" },
		},
		{
			name: "no-domain-to-services",
			severity: "error",
			comment: "workers/domain holds plain business rules: it depends on nothing else in the Worker.",
			from: { path: "^workers/domain/" },
			to: { path: "^(workers|durable-objects)/", pathNot: "^workers/domain/" },
		},
		{
			name: "no-circular",
			severity: "error",
			comment: "An import cycle makes load order matter and hides which module owns what.",
			from: {},
			to: { circular: true },
		},
	],
	options: {
		doNotFollow: { path: "node_modules" },
		parser: "swc",
		tsPreCompilationDeps: true,
		tsConfig: { fileName: "tsconfig.json" },
		exclude: { path: "\\.test\\.ts$" },
	},
};
