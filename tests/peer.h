/* A scripted peer for model tests: a component that answers each request it
 * receives after the delay, and with the status, of the next row of a table
 * (cycling), and logs what it saw. Tests wire it as the target of the model
 * under test and read the log. Header-only so every test executable can use
 * it without a link-order dance. */
#ifndef ARCHSIM_TESTS_PEER_H
#define ARCHSIM_TESTS_PEER_H

#include "archsim/call.h"
#include "archsim/kernel.h"
#include "archsim/model.h"

struct peer_row {
	asim_time delay;
	enum asim_status status;
	uint64_t version; /* returned in call->version */
};

#define PEER_LOG 4096

struct peer_seen {
	asim_time at;
	uint16_t inst, op;
	uint64_t key, request;
	uint32_t attempt;
	asim_time deadline;
};

struct peer_state {
	const struct peer_row *rows; /* set by the test; NULL: answer OK at once */
	size_t nrows, next;
	size_t nseen;
	struct peer_seen seen[PEER_LOG];
	size_t answered, abandoned_before_answer;
	bool silent; /* never answer (drop every call) */
	asim_time inst_delay[8]; /* when non-zero: the delay of that instance's answers */
};

enum { PEER_EV_ANSWER = ASIM_EV_USER + 7 };

static inline void peer_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct peer_state *s = c->state;
	struct asim_kernel *k = c->kernel;
	if (ev->type == ASIM_EV_REQUEST) {
		struct asim_call *call = ev->p;
		if (s->nseen < PEER_LOG)
			s->seen[s->nseen++] = (struct peer_seen){
				.at = asim_now(k), .inst = ev->inst, .op = call->op, .key = call->key,
				.request = call->request, .attempt = call->attempt,
				.deadline = call->deadline,
			};
		if (s->silent) {
			asim_call_drop(k, call);
			return;
		}
		const struct peer_row *row = NULL;
		if (s->nrows) {
			row = &s->rows[s->next % s->nrows];
			s->next++;
		}
		call->version = row ? row->version : 0;
		asim_time delay = row ? row->delay : 0;
		if (ev->inst < 8 && s->inst_delay[ev->inst])
			delay = s->inst_delay[ev->inst];
		asim_schedule(k, delay, c->id, PEER_EV_ANSWER, ev->inst,
		              row ? (uint64_t)row->status : ASIM_OK, call);
	} else if (ev->type == PEER_EV_ANSWER) {
		struct asim_call *call = ev->p;
		if (asim_call_abandoned(call))
			s->abandoned_before_answer++;
		s->answered++;
		asim_call_reply(k, call, (enum asim_status)ev->a);
	}
}

static const struct asim_model_ops peer_ops = {
	.kind = "peer",
	.summary = "scripted test peer",
	.state_size = sizeof(struct peer_state),
	.handle = peer_handle,
};

#endif
