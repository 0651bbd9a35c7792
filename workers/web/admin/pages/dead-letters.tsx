import type { Context } from "hono";
import type { AppEnv } from "../../../api/types.ts";
import { notFound } from "../../../domain/errors.ts";
import { listDeadLetters, replayDeadLetter } from "../../../queues/dead-letters.ts";
import { action, readForm } from "../actions.ts";
import { AdminLayout, listUrl, NextPage, Time } from "../layout.tsx";
import { messagesOf } from "../messages.ts";

const QUEUES = ["orders", "notifications"] as const;
const PAGE_SIZE = 25;

/** The envelope type of a dead letter's body, when it has one. */
function typeOf(body: unknown): string | undefined {
	if (body && typeof body === "object" && "type" in body && typeof body.type === "string") return body.type;
	return undefined;
}

/** `GET /admin/dead-letters?queue=&replayed=&cursor=`: what the queues gave up on, newest first, each with "Replay". */
export async function deadLettersPage(c: Context<AppEnv>): Promise<Response> {
	const queueParam = c.req.query("queue");
	const queue = QUEUES.find((name) => name === queueParam);
	const replayedParam = c.req.query("replayed");
	const replayed = replayedParam === "true" ? true : replayedParam === "false" ? false : undefined;
	const cursorParam = Number(c.req.query("cursor"));
	const cursor = Number.isSafeInteger(cursorParam) && cursorParam > 0 ? cursorParam : undefined;
	const page = await listDeadLetters(c.get("database").primary, { queue, replayed, limit: PAGE_SIZE, cursor });
	const here = listUrl("/admin/dead-letters", { queue, replayed: replayedParam, cursor });
	return c.html(
		<AdminLayout
			title="Dead letters"
			current="dead-letters"
			messages={messagesOf({ notice: c.req.query("notice"), error: c.req.query("error") })}
		>
			<h1>Dead letters</h1>
			<p class="hint">
				Messages a queue gave up on after its retries. Consumers apply each event once, so replaying a letter is safe: it goes back on its
				queue as it was, except for link tokens, which are kept as [redacted]. A replayed verification or password-reset e-mail is therefore
				not sent; the customer asks for a new link.
			</p>
			<form class="filters panel" method="get" action="/admin/dead-letters" aria-label="Filter dead letters">
				<div class="field">
					<label for="dl-queue">Queue</label>
					<select id="dl-queue" name="queue">
						<option value="">All queues</option>
						{QUEUES.map((name) => (
							<option value={name} selected={name === queue}>
								{name}
							</option>
						))}
					</select>
				</div>
				<div class="field">
					<label for="dl-replayed">State</label>
					<select id="dl-replayed" name="replayed">
						<option value="">Any</option>
						<option value="false" selected={replayed === false}>
							Waiting
						</option>
						<option value="true" selected={replayed === true}>
							Replayed
						</option>
					</select>
				</div>
				<button type="submit">Filter</button>
			</form>
			{page.data.length === 0 ? (
				<p class="panel">No dead letters{queue || replayed !== undefined ? " match" : ""}. Everything the queues received was applied.</p>
			) : (
				<div class="table-wrap">
					<table class="cards">
						<caption class="visually-hidden">Dead letters, newest first</caption>
						<thead>
							<tr>
								<th scope="col">ID</th>
								<th scope="col">Queue</th>
								<th scope="col">Message</th>
								<th scope="col" class="num">
									Attempts
								</th>
								<th scope="col">Received</th>
								<th scope="col">Replay</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((letter) => (
								<tr>
									<td data-label="ID">{letter.id}</td>
									<td data-label="Queue">{letter.queue}</td>
									<td>
										<strong>{typeOf(letter.body) ?? "unknown type"}</strong>
										<div class="hint">
											<code>{letter.message_id}</code>
										</div>
										<details>
											<summary>Body</summary>
											<pre>{JSON.stringify(letter.body, null, 2)}</pre>
										</details>
									</td>
									<td class="num" data-label="Attempts">
										{letter.attempts}
									</td>
									<td class="nowrap" data-label="Received">
										<Time at={letter.received_at} />
									</td>
									<td>
										{letter.replayed_at ? (
											<span class="badge ok">
												Replayed <Time at={letter.replayed_at} />
											</span>
										) : (
											<form method="post" action={`/admin/dead-letters/${letter.id}/replay`}>
												<input type="hidden" name="back" value={here} />
												<button type="submit">
													Replay<span class="visually-hidden"> dead letter {letter.id}</span>
												</button>
											</form>
										)}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			<NextPage
				href={page.next_cursor ? listUrl("/admin/dead-letters", { queue, replayed: replayedParam, cursor: page.next_cursor }) : null}
			/>
		</AdminLayout>,
	);
}

/** `POST /admin/dead-letters/{id}/replay`: back on its queue; a second replay is refused (409) and says so. */
export async function replayAction(c: Context<AppEnv>): Promise<Response> {
	const id = Number(c.req.param("id"));
	const { fields } = await readForm(c);
	const backField = fields.get("back") ?? "";
	const back = backField.startsWith("/admin/dead-letters") ? backField : "/admin/dead-letters";
	return action(c, back, async () => {
		if (!Number.isSafeInteger(id) || id <= 0) throw notFound("No dead letter with this id.");
		await replayDeadLetter(c.env, c.get("database").primary, id, { userId: c.get("auth").userId, requestId: c.get("requestId") });
		return "replayed";
	});
}
