/* The call protocol: request, reply or drop, abandon, and who frees when.
 *
 * A record is freed exactly once, by whichever side finishes last: the caller
 * (abandon, or free after delivery), the callee (reply or drop after an
 * abandon), or the kernel when it pops a response whose caller has gone. */
#include "kernel_private.h"

static const char *const status_names[ASIM_STATUS_COUNT] = {
	[ASIM_OK] = "ok",
	[ASIM_TIMEOUT] = "timeout",
	[ASIM_REJECTED] = "rejected",
	[ASIM_ERROR] = "error",
	[ASIM_UNREACHABLE] = "unreachable",
};

const char *asim_status_str(enum asim_status s)
{
	return (size_t)s < ASIM_STATUS_COUNT ? status_names[s] : "unknown";
}

void asim_kernel_set_network(struct asim_kernel *k, asim_net_delay_fn fn, void *net)
{
	k->net_fn = fn;
	k->net = net;
}

void asim_kernel_set_network_link(struct asim_kernel *k, asim_net_link_fn fn)
{
	k->link_fn = fn;
}

bool asim_net_link_up(struct asim_kernel *k, uint32_t from, uint16_t from_inst, uint32_t to,
                      uint16_t to_inst)
{
	return !k->link_fn || k->link_fn(k->net, k, from, from_inst, to, to_inst);
}

size_t asim_call_live(const struct asim_kernel *k)
{
	return k->calls.live;
}

static inline asim_time net_delay(struct asim_kernel *k, uint32_t from, uint16_t from_inst,
                                  uint32_t to, uint16_t to_inst)
{
	if (!k->net_fn)
		return 0;
	asim_time d = k->net_fn(k->net, k, from, from_inst, to, to_inst);
	return d > 0 ? d : 0;
}

struct asim_call *asim_call_new(struct asim_kernel *k)
{
	if (k->max_inflight && k->calls.live >= k->max_inflight) {
		asim_kernel_fail(k, ASIM_RUN_INFLIGHT_LIMIT);
		return NULL;
	}
	struct asim_call *call = asim_pool_take(&k->calls);
	if (!call) {
		asim_kernel_fail(k, ASIM_RUN_NOMEM);
		return NULL;
	}
	/* Every field by name, not a compound literal: for a literal of this
	 * size GCC's generic x86-64 tuning zeroes with `rep stos`, whose
	 * start-up alone costs more than these stores (bench/README.md,
	 * twenty-second round). test_call checks that no field is missed. */
	call->caller = call->callee = 0;
	call->caller_inst = call->callee_inst = call->op = 0;
	call->status = call->flags = 0;
	call->attempt = call->tag = call->session = 0;
	call->key = call->request = call->token = call->version = 0;
	call->origin = call->sent = call->arrived = 0;
	call->deadline = ASIM_TIME_MAX;
	return call;
}

void asim_call_send(struct asim_kernel *k, struct asim_call *call, uint32_t from,
                    uint16_t from_inst, uint32_t to, uint16_t to_inst)
{
	call->caller = from;
	call->caller_inst = from_inst;
	call->callee = to;
	call->callee_inst = to_inst;
	call->sent = k->head.now;
	const struct asim_dispatch *disp = &k->disp[to];
	if (disp->route)
		call->callee_inst = to_inst = disp->route(disp->c, call);
	/* Without a network the request is due now: the FIFO takes it. */
	if (!k->net_fn) {
		call->arrived = k->head.now;
		asim_kernel_schedule_now(k, to, ASIM_EV_REQUEST, to_inst, call);
		return;
	}
	asim_time d = net_delay(k, from, from_inst, to, to_inst);
	if (d == ASIM_NET_LOST) {
		call->flags |= ASIM_CALL_CALLEE_DONE;
		return;
	}
	call->arrived = k->head.now + d;
	asim_schedule(k, d, to, ASIM_EV_REQUEST, to_inst, 0, call);
}

void asim_call_measure(struct asim_component *c, struct asim_hist *h)
{
	asim_hist_init(h);
	c->kernel->disp[c->id].latency = h;
}

void asim_call_reply(struct asim_kernel *k, struct asim_call *call, enum asim_status status)
{
	/* The callee's own latency, whether or not its caller still waits. */
	struct asim_hist *h = k->disp[call->callee].latency;
	if (h && status == ASIM_OK && asim_measuring_at(k, call->arrived))
		asim_hist_record(h, k->head.now - call->arrived);
	call->status = (uint8_t)status;
	call->flags |= ASIM_CALL_CALLEE_DONE;
	if (call->flags & ASIM_CALL_CALLER_DONE) {
		if (!(call->flags & ASIM_CALL_IN_FLIGHT))
			asim_pool_put(&k->calls, call);
		return;
	}
	if (!k->net_fn) {
		call->flags |= ASIM_CALL_IN_FLIGHT;
		asim_kernel_schedule_now(k, call->caller, ASIM_EV_RESPONSE, call->caller_inst, call);
		return;
	}
	asim_time d = net_delay(k, call->callee, call->callee_inst, call->caller, call->caller_inst);
	if (d == ASIM_NET_LOST)
		return; /* the caller's abandon frees it, as after a drop */
	call->flags |= ASIM_CALL_IN_FLIGHT;
	asim_schedule(k, d, call->caller, ASIM_EV_RESPONSE, call->caller_inst, 0, call);
}

void asim_call_drop(struct asim_kernel *k, struct asim_call *call)
{
	call->flags |= ASIM_CALL_CALLEE_DONE;
	if (call->flags & ASIM_CALL_CALLER_DONE)
		asim_pool_put(&k->calls, call);
}

void asim_call_abandon(struct asim_kernel *k, struct asim_call *call)
{
	call->flags |= ASIM_CALL_CALLER_DONE;
	/* With a response in flight the kernel frees the record when it pops. */
	if ((call->flags & ASIM_CALL_CALLEE_DONE) && !(call->flags & ASIM_CALL_IN_FLIGHT))
		asim_pool_put(&k->calls, call);
}

void asim_call_free(struct asim_kernel *k, struct asim_call *call)
{
	asim_pool_put(&k->calls, call);
}
