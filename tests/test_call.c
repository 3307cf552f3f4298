/* The call protocol: every life cycle ends with no record alive. */
#include <check.h>
#include <stddef.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/model.h"

/* A scripted caller and callee. Each step is one action taken at a time
 * offset by one side; the log says what each side received. */
enum act {
	NONE,
	SEND,    /* caller: new call, send to callee */
	REPLY,   /* callee: reply OK */
	DROP,    /* callee: drop */
	ABANDON, /* caller: abandon */
};

enum { EV_ACT = ASIM_EV_USER };

struct seen {
	char side;      /* 'q' request at the callee, 'r' response at the caller */
	asim_time time;
	uint8_t status;
};

static struct seen seen[16];
static size_t nseen;
static struct asim_call *current;

static void caller_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct asim_kernel *k = c->kernel;
	if (ev->type == ASIM_EV_RESPONSE) {
		struct asim_call *call = ev->p;
		ck_assert_ptr_eq(call, current);
		seen[nseen++] = (struct seen){'r', ev->time, call->status};
		ck_assert_uint_eq(call->token, 77);
		asim_call_free(k, call);
		current = NULL;
		return;
	}
	switch ((enum act)ev->a) {
	case SEND:
		current = asim_call_new(k);
		ck_assert_ptr_nonnull(current);
		ck_assert_int_eq(current->deadline, ASIM_TIME_MAX);
		current->token = 77;
		asim_call_send(k, current, c->id, 3, 1, 5);
		ck_assert_int_eq(current->sent, asim_now(k));
		break;
	case ABANDON:
		asim_call_abandon(k, current);
		break;
	default:
		ck_abort_msg("caller cannot do %d", (int)ev->a);
	}
}

static void callee_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct asim_kernel *k = c->kernel;
	if (ev->type == ASIM_EV_REQUEST) {
		struct asim_call *call = ev->p;
		ck_assert_ptr_eq(call, current);
		ck_assert_uint_eq(ev->inst, 5);
		ck_assert_uint_eq(call->caller, 0);
		ck_assert_uint_eq(call->caller_inst, 3);
		ck_assert_uint_eq(call->callee, 1);
		ck_assert_uint_eq(call->callee_inst, 5);
		seen[nseen++] = (struct seen){'q', ev->time, 0};
		return;
	}
	switch ((enum act)ev->a) {
	case REPLY:
		asim_call_reply(k, current, ASIM_ERROR);
		break;
	case DROP:
		asim_call_drop(k, current);
		break;
	default:
		ck_abort_msg("callee cannot do %d", (int)ev->a);
	}
}

static const struct asim_model_ops caller_ops = {.kind = "caller", .handle = caller_handle};
static const struct asim_model_ops callee_ops = {.kind = "callee", .handle = callee_handle};

/* A network with different one-way delays in each direction. */
static asim_time net_fn(void *net, struct asim_kernel *k, uint32_t from, uint16_t from_inst,
                        uint32_t to, uint16_t to_inst)
{
	const asim_time *d = net;
	return from == 0 ? d[0] : d[1];
}

struct step {
	asim_time at;
	uint32_t who; /* 0 caller, 1 callee */
	enum act act;
};

struct call_case {
	const char *name;
	bool network;          /* 2 ns there, 3 ns back */
	struct step steps[4];
	const char *want;      /* sides seen in order */
	asim_time want_time[4];
	size_t live_mid;       /* records alive at t = 50 */
};

static const struct call_case cases[] = {
	{"reply delivered", false, {{0, 0, SEND}, {10, 1, REPLY}}, "qr", {0, 10}, 0},
	{"abandon then reply: freed, not delivered", false,
	 {{0, 0, SEND}, {5, 0, ABANDON}, {10, 1, REPLY}}, "q", {0}, 0},
	{"reply in flight then abandon: freed at pop", true,
	 {{0, 0, SEND}, {10, 1, REPLY}, {11, 0, ABANDON}}, "q", {2}, 0},
	{"drop then abandon", false, {{0, 0, SEND}, {10, 1, DROP}, {20, 0, ABANDON}}, "q", {0}, 0},
	{"abandon then drop", false, {{0, 0, SEND}, {10, 0, ABANDON}, {20, 1, DROP}}, "q", {0}, 0},
	{"network delay both ways", true, {{0, 0, SEND}, {10, 1, REPLY}}, "qr", {2, 13}, 0},
	{"abandoned and never answered stays alive", false, {{0, 0, SEND}, {10, 0, ABANDON}}, "q",
	 {0}, 1},
};

START_TEST(call_life_cycles_free_every_record)
{
	const struct call_case *cc = &cases[_i];
	static asim_time delays[2] = {2, 3};
	nseen = 0;
	current = NULL;
	struct asim_kernel *k = asim_kernel_create(1, 0);
	ck_assert_ptr_nonnull(asim_kernel_add(k, "caller", &caller_ops));
	ck_assert_ptr_nonnull(asim_kernel_add(k, "callee", &callee_ops));
	if (cc->network)
		asim_kernel_set_network(k, net_fn, delays);
	for (size_t i = 0; i < 4 && cc->steps[i].act != NONE; i++)
		asim_schedule_at(k, cc->steps[i].at, cc->steps[i].who, EV_ACT, 0, cc->steps[i].act,
		                 NULL);
	ck_assert_int_eq(asim_kernel_run(k, 50), ASIM_RUN_DONE);
	ck_assert_uint_eq(nseen, strlen(cc->want));
	for (size_t i = 0; i < nseen; i++) {
		ck_assert_msg(seen[i].side == cc->want[i], "%s: event %zu", cc->name, i);
		ck_assert_int_eq(seen[i].time, cc->want_time[i]);
		if (seen[i].side == 'r')
			ck_assert_uint_eq(seen[i].status, ASIM_ERROR);
	}
	ck_assert_msg(asim_call_live(k) == cc->live_mid, "%s: %zu alive", cc->name,
	              asim_call_live(k));
	ck_assert_uint_eq(asim_kernel_pending(k), 0);
	/* The dropped stale response is not an event. */
	size_t acts = 0;
	for (size_t i = 0; i < 4 && cc->steps[i].act != NONE; i++)
		acts++;
	ck_assert_uint_eq(asim_kernel_events(k), acts + nseen);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(call_many_calls_reuse_records)
{
	struct asim_kernel *k = asim_kernel_create(1, 0);
	ck_assert_ptr_nonnull(asim_kernel_add(k, "caller", &caller_ops));
	for (int round = 0; round < 3; round++) {
		struct asim_call *calls[3000];
		for (int i = 0; i < 3000; i++) {
			calls[i] = asim_call_new(k);
			ck_assert_ptr_nonnull(calls[i]);
			ck_assert_uint_eq(calls[i]->flags, 0);
			calls[i]->key = (uint64_t)i;
		}
		ck_assert_uint_eq(asim_call_live(k), 3000);
		for (int i = 0; i < 3000; i++) {
			ck_assert_uint_eq(calls[i]->key, (uint64_t)i);
			/* Both sides give up: freed by the second one. */
			asim_call_drop(k, calls[i]);
			asim_call_abandon(k, calls[i]);
		}
		ck_assert_uint_eq(asim_call_live(k), 0);
	}
	asim_kernel_destroy(k);
}
END_TEST

/* The fields of struct asim_call, as this test knows them. */
#define CALL_FIELD(f) {offsetof(struct asim_call, f), sizeof(((struct asim_call *)0)->f), #f}
static const struct {
	size_t at, size;
	const char *name;
} call_fields[] = {
	CALL_FIELD(caller),  CALL_FIELD(callee),  CALL_FIELD(caller_inst), CALL_FIELD(callee_inst),
	CALL_FIELD(op),      CALL_FIELD(status),  CALL_FIELD(flags),       CALL_FIELD(attempt),
	CALL_FIELD(tag),     CALL_FIELD(session), CALL_FIELD(key),         CALL_FIELD(request),
	CALL_FIELD(token),   CALL_FIELD(version), CALL_FIELD(origin),      CALL_FIELD(sent),
	CALL_FIELD(arrived), CALL_FIELD(deadline),
};

/* asim_call_new sets every field of a record its pool hands back dirty:
 * zero, and the deadline to none. It sets them one by one (call.c says
 * why), so this also checks that the test's list of fields is the whole
 * struct: a field added later, not set there, fails here. */
START_TEST(call_new_clears_a_reused_record)
{
	struct asim_kernel *k = asim_kernel_create(1, 0);
	ck_assert_ptr_nonnull(asim_kernel_add(k, "caller", &caller_ops));
	size_t n = sizeof(call_fields) / sizeof(call_fields[0]), covered = 0;
	for (size_t i = 0; i < n; i++)
		covered += call_fields[i].size;
	/* The one hole the layout has: 4 bytes after session, to align key. */
	ck_assert_uint_eq(sizeof(struct asim_call) - covered, 4);
	for (int round = 0; round < 3; round++) {
		struct asim_call *call = asim_call_new(k);
		ck_assert_ptr_nonnull(call);
		for (size_t i = 0; i < n; i++) {
			const unsigned char *b = (const unsigned char *)call + call_fields[i].at;
			if (strcmp(call_fields[i].name, "deadline") == 0) {
				ck_assert_int_eq(call->deadline, ASIM_TIME_MAX);
				continue;
			}
			for (size_t j = 0; j < call_fields[i].size; j++)
				ck_assert_msg(b[j] == 0, "%s not cleared", call_fields[i].name);
		}
		memset(call, 0xa5, sizeof(*call));
		asim_call_free(k, call);
		ck_assert_uint_eq(asim_call_live(k), 0);
	}
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(call_status_names)
{
	ck_assert_str_eq(asim_status_str(ASIM_OK), "ok");
	ck_assert_str_eq(asim_status_str(ASIM_TIMEOUT), "timeout");
	ck_assert_str_eq(asim_status_str(ASIM_REJECTED), "rejected");
	ck_assert_str_eq(asim_status_str(ASIM_ERROR), "error");
	ck_assert_str_eq(asim_status_str(ASIM_UNREACHABLE), "unreachable");
}
END_TEST

static Suite *call_suite(void)
{
	Suite *s = suite_create("call");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, call_life_cycles_free_every_record, 0,
	                    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, call_many_calls_reuse_records);
	tcase_add_test(tc, call_new_clears_a_reused_record);
	tcase_add_test(tc, call_status_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(call_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
