/* Scenario files end to end: every file in scenarios/invalid/ fails with its
 * expected first diagnostic; every shipped scenario loads, runs and gives
 * byte-identical results when rerun with the same seed. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"

#define MAX_FILES 512

static const char *root(void)
{
	const char *r = getenv("ARCHSIM_SOURCE_ROOT");
	return r ? r : ".";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Relative paths (from the source root) of the .yaml files under dir, sorted
 * so that test order is stable; recursive unless it meets skip. */
static size_t list_yaml(const char *dir, const char *skip, char **out, size_t n)
{
	char full[1024];
	snprintf(full, sizeof full, "%s/%s", root(), dir);
	DIR *dp = opendir(full);
	if (!dp)
		return n;
	struct dirent *e;
	while ((e = readdir(dp)) && n < MAX_FILES) {
		if (e->d_name[0] == '.')
			continue;
		char rel[1024];
		snprintf(rel, sizeof rel, "%s/%s", dir, e->d_name);
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml")) {
			out[n++] = strdup(rel);
		} else if (!strchr(e->d_name, '.') && (!skip || strcmp(e->d_name, skip))) {
			n = list_yaml(rel, skip, out, n);
		}
	}
	closedir(dp);
	return n;
}

/* The expected first diagnostic of an invalid file: its NAME.expect sidecar,
 * or else its "# expect: " comment line. */
static bool expected_diag(const char *rel, char *buf, size_t len)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%.*s.expect", root(), (int)(strlen(rel) - 5), rel);
	FILE *f = fopen(path, "r");
	if (f) {
		bool ok = fgets(buf, (int)len, f) != NULL;
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		return ok;
	}
	snprintf(path, sizeof path, "%s/%s", root(), rel);
	f = fopen(path, "r");
	if (!f)
		return false;
	char line[2048];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		if (!strncmp(line, "# expect: ", 10)) {
			snprintf(buf, len, "%s", line + 10);
			buf[strcspn(buf, "\n")] = '\0';
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Loads with the path relative to the root, as a user would type it, so the
 * diagnostics name the file the same way. */
static struct asim_scenario *load_rel(const char *rel, const struct asim_overrides *ov,
                                      struct asim_diag *d)
{
	ck_assert_int_eq(chdir(root()), 0);
	return asim_scenario_load(rel, ov, d);
}

/* Loads rel (from the root) or, when text is given, that text under the
 * name rel, and runs replication 0 into r (initialised here). The caller
 * finishes r and frees the scenario, which it may still judge. */
static struct asim_scenario *load_run(const char *rel, const char *text,
                                      const struct asim_overrides *ov, struct asim_results *r)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = text ? asim_scenario_load_buffer(rel, text, strlen(text), ov, &d)
	                               : load_rel(rel, ov, &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(s);
	asim_results_init(r);
	ck_assert_int_eq(asim_scenario_run(s, 0, r, &d), ASIM_RUN_DONE);
	asim_diag_finish(&d);
	return s;
}

START_TEST(scenario_invalid_catalogue)
{
	char *files[MAX_FILES];
	size_t n = list_yaml("scenarios/invalid", NULL, files, 0);
	qsort(files, n, sizeof *files, cmp_str);
	ck_assert_msg(n >= 10, "only %zu invalid scenarios", n);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		char want[2048], got[2048] = "(no diagnostic)";
		ck_assert_msg(expected_diag(files[i], want, sizeof want), "%s: no expectation",
		              files[i]);
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_scenario *s = load_rel(files[i], NULL, &d);
		if (d.n)
			asim_diag_format(&d, 0, got, sizeof got);
		if (s || strcmp(want, got)) {
			fprintf(stderr, "%s:\n  want: %s\n  got:  %s%s\n", files[i], want, got,
			        s ? " (and it loaded)" : "");
			bad++;
		}
		asim_scenario_free(s);
		asim_diag_finish(&d);
		free(files[i]);
	}
	ck_assert_msg(bad == 0, "%zu invalid scenarios gave another first diagnostic", bad);
}
END_TEST

static char *run_json(const char *rel, const struct asim_overrides *ov)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = load_rel(rel, ov, &d);
	asim_diag_print(&d, stderr);
	ck_assert_msg(s != NULL, "%s does not load", rel);
	/* Shipped scenarios run long; a few simulated seconds after warm-up
	 * exercise every path and keep the suite quick. */
	if (s->duration > s->warmup + 3 * ASIM_S)
		s->duration = s->warmup + 3 * ASIM_S;
	/* Under valgrind (tests/meson.build's setup) a fraction of a second,
	 * warm-up included, still reaches every path and takes minutes less. */
	const char *vg = getenv("ARCHSIM_VALGRIND");
	if (vg && *vg && strcmp(vg, "0")) {
		if (s->warmup > 100 * ASIM_MS)
			s->warmup = 100 * ASIM_MS;
		if (s->duration > s->warmup + 400 * ASIM_MS)
			s->duration = s->warmup + 400 * ASIM_MS;
	}
	struct asim_results r;
	asim_results_init(&r);
	enum asim_run_status st = asim_scenario_run(s, 0, &r, &d);
	ck_assert_msg(st == ASIM_RUN_DONE, "%s stopped: %s", rel, asim_run_status_str(st));
	asim_scenario_judge(s, &r);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert(asim_results_write_json(&r, f));
	fclose(f);
	asim_results_finish(&r);
	asim_diag_finish(&d);
	asim_scenario_free(s);
	return buf;
}

START_TEST(scenario_shipped_run_deterministically)
{
	char *files[MAX_FILES];
	size_t n = list_yaml("scenarios", "invalid", files, 0);
	qsort(files, n, sizeof *files, cmp_str);
	ck_assert_msg(n >= 5, "only %zu shipped scenarios", n);
	for (size_t i = 0; i < n; i++) {
		char *a = run_json(files[i], NULL);
		char *b = run_json(files[i], NULL);
		ck_assert_msg(!strcmp(a, b), "%s: two runs with the same seed differ", files[i]);
		ck_assert_msg(strstr(a, "\"requests\""), "%s: no requests key", files[i]);
		free(a);
		free(b);
		free(files[i]);
	}
}
END_TEST

START_TEST(scenario_seed_changes_results)
{
	struct asim_overrides ov = {.has_seed = true, .seed = 12345};
	char *a = run_json("tests/data/small.yaml", NULL);
	char *b = run_json("tests/data/small.yaml", &ov);
	ck_assert_msg(strcmp(a, b), "another seed gave identical results");
	free(a);
	free(b);
}
END_TEST

START_TEST(scenario_overrides_apply)
{
	struct asim_overrides ov = {.has_seed = true, .seed = 9, .duration = "4s"};
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = load_rel("tests/data/small.yaml", &ov, &d);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->seed, 9);
	ck_assert_int_eq(s->duration, 4 * ASIM_S);
	ck_assert_uint_eq(s->nslo, 2);
	ck_assert_str_eq(s->slo[0].metric, "p99");
	ck_assert_double_eq_tol(s->slo[0].target, 100.0, 1e-9);
	ck_assert_str_eq(s->slo[1].metric, "availability");
	ck_assert_double_eq_tol(s->slo[1].target, 0.99, 1e-12);
	asim_scenario_free(s);
	asim_diag_finish(&d);
}
END_TEST

/* The flagship's request counts add up across components: what the balancer
 * forwards the services receive, what the cache misses the database reads,
 * what the services emit the queue takes and the workers process. Counts are
 * taken after warm-up by each component at its own arrival, so requests in
 * flight at the warm-up edge and at the end may differ by a few: the bound
 * is 0.2% of the larger count. */
static double get(const struct asim_results *r, const char *path)
{
	const struct asim_value *v = asim_results_get(r, path);
	ck_assert_msg(v != NULL, "no %s", path);
	return v->num;
}

static void assert_close(const char *what, double a, double b)
{
	double bound = 0.002 * (a > b ? a : b) + 2;
	ck_assert_msg(fabs(a - b) <= bound, "%s: %.0f vs %.0f", what, a, b);
}

START_TEST(scenario_flagship_counts_consistent)
{
	struct asim_overrides ov = {.duration = getenv("ARCHSIM_VALGRIND") ? "12s" : "40s"};
	struct asim_results r;
	struct asim_scenario *s = load_run("scenarios/seed-architecture.yaml", NULL, &ov, &r);
	double a_arrived = get(&r, "components.service_a.arrived");
	double b_arrived = get(&r, "components.service_b.arrived");
	assert_close("lb forwarded = services arrived", get(&r, "components.lb.forwarded"),
	             a_arrived + b_arrived);
	assert_close("gateway admitted = lb forwarded", get(&r, "components.edge.admitted"),
	             get(&r, "components.lb.forwarded"));
	double cache_calls = get(&r, "components.service_a.calls.cache.sent") +
	                     get(&r, "components.service_b.calls.cache.sent");
	double misses = get(&r, "components.cache.misses");
	assert_close("cache lookups = service cache calls",
	             get(&r, "components.cache.hits") + misses, cache_calls);
	double db_calls = get(&r, "components.service_a.calls.db.sent") +
	                  get(&r, "components.service_b.calls.db.sent");
	double emitted = get(&r, "components.service_a.calls.events.sent") +
	                 get(&r, "components.service_b.calls.events.sent");
	assert_close("queue produced = services emitted", get(&r, "components.events.produced"),
	             emitted);
	assert_close("workers took = queue delivered", get(&r, "components.workers.arrived"),
	             get(&r, "components.events.delivered"));
	/* Every request emits one event and a worker replays it on the database
	 * with the request's operation: the database reads once per cache miss
	 * and once per read event, and writes once from the service and once
	 * from the worker for every write. */
	assert_close("db reads = cache misses + read events", get(&r, "components.db.reads"),
	             misses + cache_calls);
	assert_close("db writes = service writes + write events", get(&r, "components.db.writes"),
	             2 * db_calls);
	ck_assert(get(&r, "components.cache.hit_ratio") > 0.3);
	asim_results_finish(&r);
	asim_scenario_free(s);
}
END_TEST

/* The request rates add up: completed and admitted are counts over the
 * measured time, admitted leaves out the requests a full queue refused, and
 * the goodput is what succeeded. queue-buildup-fixed sheds load, so the
 * three differ. */
START_TEST(scenario_rates_add_up)
{
	struct asim_overrides ov = {0};
	struct asim_results r;
	struct asim_scenario *s =
		load_run("scenarios/failures/queue-buildup-fixed.yaml", NULL, &ov, &r);
	double measured = get(&r, "duration_s") - get(&r, "warmup_s");
	double requests = get(&r, "requests"), rejected = get(&r, "failures.rejected");
	ck_assert(rejected > 0);
	/* Exact but for the rounding of a division and a product. */
	ck_assert_double_eq_tol(get(&r, "completed_rps") * measured, requests, 1e-9 * requests);
	ck_assert_double_eq_tol(get(&r, "admitted_rps") * measured, requests - rejected,
	                        1e-9 * requests);
	ck_assert_double_eq_tol(get(&r, "throughput_rps") * measured, get(&r, "succeeded"),
	                        1e-9 * requests);
	ck_assert(get(&r, "offered_rps") >= get(&r, "completed_rps"));
	ck_assert(get(&r, "admitted_rps") < get(&r, "completed_rps"));
	ck_assert(get(&r, "throughput_rps") <= get(&r, "admitted_rps"));
	asim_results_finish(&r);
	asim_scenario_free(s);
}
END_TEST

/* Runs stale-replicas-fixed (read-your-writes for one open-loop client) for
 * 30 s with one --set (or none) into r. */
static void run_ryw(const char *set, struct asim_results *r)
{
	const char *sets[] = {set};
	struct asim_overrides ov = {.duration = "30s", .sets = sets, .nsets = set ? 1 : 0};
	asim_scenario_free(load_run("scenarios/failures/stale-replicas-fixed.yaml", NULL, &ov, r));
}

/* An open-loop client's `sessions`: with one, every request is of the same
 * session, as without (and the draws of the sessions are a stream of their
 * own, so nothing else moves); with a thousand, a read goes to the primary
 * only after its own session's write of the key, so the replicas take most
 * reads and some return another session's write late. */
START_TEST(scenario_open_loop_sessions)
{
	static const char *const keys[] = {
		"requests", "invariants.stale_reads", "components.db.served[0]", "components.db.served[1]",
		"latency_ms.p99", "latency_ms.mean",
	};
	struct asim_results none, one, many;
	run_ryw(NULL, &none);
	run_ryw("components.users.sessions=1", &one);
	run_ryw("components.users.sessions=1000", &many);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		ck_assert_msg(get(&none, keys[i]) == get(&one, keys[i]), "%s differs", keys[i]);
	ck_assert(get(&none, "invariants.stale_reads") == 0);
	ck_assert(get(&many, "invariants.stale_reads") > 0);
	ck_assert(get(&many, "requests") == get(&none, "requests"));
	/* One session: reads of any recently written key (most of 200 keys
	 * at 200 writes/s) go to the primary; a thousand: only the writer's. */
	ck_assert(get(&none, "components.db.served[0]") > 4 * get(&none, "components.db.served[1]"));
	ck_assert(get(&many, "components.db.served[0]") < get(&many, "components.db.served[1]"));
	asim_results_finish(&none);
	asim_results_finish(&one);
	asim_results_finish(&many);
}
END_TEST

/* invariants.queue_backlog is the largest backlog_max of the run's queues
 * (here a fast one and one near saturation, rho 0.975), and an SLO on it
 * judges it. Both groups formed before the run: the cold start's 3s
 * without consumers would otherwise outlast the warm-up and give both
 * queues the same 1500 messages. Over seeds 1-150 fast's backlog_max was 2
 * and slow's 38 to 175. */
static const char two_queues[] =
	"name: two-queues\n"
	"duration: 30s\n"
	"warmup: 2s\n"
	"components:\n"
	"  users: {kind: client, rate: 500/s, target: api}\n"
	"  api: {kind: service, service_time: 1ms, calls: [{emit: fast}, {emit: slow}]}\n"
	"  fast: {kind: queue, consumers: wf, initial_rebalance: false}\n"
	"  slow: {kind: queue, consumers: ws, initial_rebalance: false}\n"
	"  wf: {kind: worker, concurrency: 8, service_time: 1ms}\n"
	"  ws: {kind: worker, concurrency: 1, service_time: 1.95ms}\n"
	"slo: {queue_backlog: 20}\n";

START_TEST(scenario_queue_backlog_invariant)
{
	struct asim_overrides ov = {0};
	struct asim_results r;
	struct asim_scenario *s = load_run("two-queues.yaml", two_queues, &ov, &r);
	double fast = get(&r, "components.fast.backlog_max");
	double slow = get(&r, "components.slow.backlog_max");
	ck_assert(fast >= 1 && slow > 20 && slow > fast);
	ck_assert(get(&r, "invariants.queue_backlog") == slow);
	ck_assert(!asim_scenario_judge(s, &r));
	ck_assert_str_eq(s->slo[0].metric, "queue_backlog");
	ck_assert(get(&r, "slo[0].value") == slow);
	ck_assert(get(&r, "slo[0].ok") == 0);
	asim_results_finish(&r);
	asim_scenario_free(s);
}
END_TEST

START_TEST(scenario_hash_is_content_not_format)
{
	static const char a[] = "x: {rate: 10/s, n: [1, 2]}\ny: ok\n";
	static const char b[] = "# a comment\nx:\n  rate: 10/s\n  n:\n    - 1\n    - 2\ny: ok\n";
	static const char c[] = "x: {rate: 11/s, n: [1, 2]}\ny: ok\n";
	static const char e[] = "x: {rate: 10/s, n: [12]}\ny: ok\n";
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *da = asim_doc_load_buffer("a", a, strlen(a), &d);
	struct asim_doc *db = asim_doc_load_buffer("b", b, strlen(b), &d);
	struct asim_doc *dc = asim_doc_load_buffer("c", c, strlen(c), &d);
	struct asim_doc *de = asim_doc_load_buffer("e", e, strlen(e), &d);
	ck_assert(da && db && dc && de);
	ck_assert_uint_eq(asim_cfg_hash(da->root), asim_cfg_hash(db->root));
	ck_assert_uint_ne(asim_cfg_hash(da->root), asim_cfg_hash(dc->root));
	ck_assert_uint_ne(asim_cfg_hash(da->root), asim_cfg_hash(de->root));
	asim_doc_free(da);
	asim_doc_free(db);
	asim_doc_free(dc);
	asim_doc_free(de);
	asim_diag_finish(&d);
}
END_TEST

/* Operation names are open: endpoint names far from every other name, or
 * that merely start with one ("read_profile"), load; a near miss of a name
 * that is known elsewhere does not, however it gets into the file. */
START_TEST(scenario_operation_names)
{
	static const char *const good[] = {
		"users: {kind: client, rate: 10/s, mix: {checkout: 0.5, browse: 0.5}, target: api}\n"
		"  api: {kind: service, service_time: 1ms}\n",
		"users: {kind: client, rate: 10/s, mix: {read_profile: 0.5, reads: 0.5}, target: api}\n"
		"  api: {kind: service, service_time: 1ms,\n"
		"        calls: {read_profile: [{target: db}], reads: [{target: db}]}}\n"
		"  db: {kind: database, read_time: 1ms, write_time: 1ms}\n",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char text[1024];
		snprintf(text, sizeof text, "duration: 10s\ncomponents:\n  %s", good[i]);
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_scenario *s = asim_scenario_load_buffer("ops.yaml", text, strlen(text), NULL, &d);
		asim_diag_print(&d, stderr);
		ck_assert_msg(s != NULL, "case %zu does not load", i);
		asim_scenario_free(s);
		asim_diag_finish(&d);
	}
	const char *sets[] = {"users.mix={raed: 0.8, write: 0.2}"};
	struct asim_overrides ov = {.sets = sets, .nsets = 1, .no_pilot = true};
	struct asim_diag d;
	asim_diag_init(&d);
	ck_assert_ptr_null(load_rel("tests/data/small.yaml", &ov, &d));
	char got[512];
	asim_diag_format(&d, 0, got, sizeof got);
	ck_assert_str_eq(got, "<--set users.mix>: error: unknown operation 'raed' in 'users.mix' "
	                      "(did you mean 'read'?)");
	asim_diag_finish(&d);
}
END_TEST

/* A call's or a worker's `op:` asks its target for an operation, so it must
 * be one the scenario knows: read, write, a mix key or a calls key; a near
 * miss says which was meant. What an `op:` sends counts as sent, so the
 * calls key it reaches is no typo of 'write'. */
static const struct {
	const char *comps, *msg; /* msg NULL: loads */
} entry_op_cases[] = {
	{"  api: {kind: service, service_time: 1ms, calls: [{target: db, op: read}]}\n", NULL},
	{"  api: {kind: service, service_time: 1ms, calls: [{target: svc2, op: wrote}]}\n"
	 "  svc2: {kind: service, service_time: 1ms, calls: {wrote: [{target: db}]}}\n",
	 NULL},
	{"  api: {kind: service, service_time: 1ms, calls: [{target: db, op: raed}]}\n",
	 "ops.yaml:5:68: error: unknown operation 'raed' in 'api.calls' (did you mean 'read'?)"},
	{"  api: {kind: service, service_time: 1ms, calls: [{target: db, op: checkout}]}\n",
	 "ops.yaml:5:68: error: unknown operation 'checkout' in 'api.calls': neither read, write, "
	 "nor a key of a client's 'mix' or a service's 'calls'"},
	{"  api: {kind: service, service_time: 1ms,\n"
	 "        calls: {write: [{parallel: [{target: db, op: wirte}]}]}}\n",
	 "ops.yaml:6:54: error: unknown operation 'wirte' in 'api.calls' (did you mean 'write'?)"},
	{"  api: {kind: service, service_time: 1ms, calls: [{emit: w}]}\n"
	 "  w: {kind: worker, service_time: 1ms, target: db, op: wrte}\n",
	 "ops.yaml:6:56: error: unknown operation 'wrte' in 'w' (did you mean 'write'?)"},
};

START_TEST(scenario_call_op_names)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "duration: 10s\n"
	         "components:\n"
	         "  users: {kind: client, rate: 10/s, mix: {read: 0.5, write: 0.5}, target: api}\n"
	         "  db: {kind: database, read_time: 1ms, write_time: 1ms}\n"
	         "%s",
	         entry_op_cases[_i].comps);
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = asim_scenario_load_buffer("ops.yaml", text, strlen(text), NULL, &d);
	char got[512] = "(no diagnostic)";
	if (d.n)
		asim_diag_format(&d, 0, got, sizeof got);
	if (entry_op_cases[_i].msg) {
		ck_assert_ptr_null(s);
		ck_assert_str_eq(got, entry_op_cases[_i].msg);
	} else {
		ck_assert_msg(s != NULL, "does not load: %s", got);
	}
	asim_scenario_free(s);
	asim_diag_finish(&d);
}
END_TEST

/* One check lists the errors of settings and of components alike, in the
 * order of the file, though they are found in several passes. */
START_TEST(scenario_errors_in_file_order)
{
	static const char text[] =
		"name: multi\n"
		"duration: 10s\n"
		"components:\n"
		"  users: {kind: client, rate: 10/s, target: api, timeout: 5}\n"
		"  api: {kind: service, service_time: 2ms, queu: 3}\n"
		"slo: {p95: 20, availability: 2}\n"
		"limits: {events: 0}\n";
	static const char *const want[] = {
		"m.yaml:4:59: error: expected a duration with a unit (e.g. 250ms) for 'timeout', got '5'",
		"m.yaml:5:43: error: unknown key 'queu' in 'api' (did you mean 'queue'?)",
		"m.yaml:6:12: error: expected a duration with a unit (e.g. 250ms) for 'p95', got '20'",
		"m.yaml:6:30: error: 'availability' must be between 0 and 1 (0% and 100%), got '2'",
		"m.yaml:7:18: error: 'events' must be at least 1, got '0'",
	};
	struct asim_diag d;
	asim_diag_init(&d);
	ck_assert_ptr_null(asim_scenario_load_buffer("m.yaml", text, strlen(text), NULL, &d));
	ck_assert_uint_eq(d.n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < d.n; i++) {
		char got[512];
		asim_diag_format(&d, i, got, sizeof got);
		ck_assert_str_eq(got, want[i]);
	}
	asim_diag_finish(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("files");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, scenario_invalid_catalogue);
	tcase_add_test(tc, scenario_operation_names);
	tcase_add_loop_test(tc, scenario_call_op_names, 0,
	                    sizeof entry_op_cases / sizeof entry_op_cases[0]);
	tcase_add_test(tc, scenario_errors_in_file_order);
	tcase_add_test(tc, scenario_shipped_run_deterministically);
	tcase_add_test(tc, scenario_seed_changes_results);
	tcase_add_test(tc, scenario_overrides_apply);
	tcase_add_test(tc, scenario_flagship_counts_consistent);
	tcase_add_test(tc, scenario_hash_is_content_not_format);
	tcase_add_test(tc, scenario_rates_add_up);
	tcase_add_test(tc, scenario_open_loop_sessions);
	tcase_add_test(tc, scenario_queue_backlog_invariant);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
