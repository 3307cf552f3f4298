/* Leadership of a replicated database: which instance accepts writes, how a
 * replica replaces a failed primary, and what that costs in data (internal
 * to the models; the database embeds one and calls these hooks).
 *
 * Modes, from the database's mapping:
 * - fixed (neither key): instance 0 is the primary for ever.
 * - `failover: {detection: 10s, policy: promote_most_caught_up | none,
 *   fencing: false}`: when the primary is down (crash, zone loss) for
 *   `detection`, the up instance holding the most data is promoted. An old
 *   primary that comes back still believes it leads until it learns of the
 *   new one, `detection` later: meanwhile two instances accept writes.
 *   The cluster manager also checks, every second (or every half detection
 *   when that is shorter), that the other instances reach the primary over
 *   the network: when a partition cuts a live primary off from most of them
 *   for `detection`, the most caught-up instance on the other side is
 *   promoted, while the old primary, alive and reachable from its side,
 *   goes on believing it leads until the partition heals and `detection`
 *   passes: split brain.
 * - `leadership: {coordinator: NAME, lease_ttl: 10s, renew_every: 3s,
 *   fencing: false}`: the primary holds a lease from a coordinator component
 *   and renews it every renew_every; once the lease it last saw has
 *   lapsed, an instance campaigns unless one it reaches over the network
 *   holds more data. An instance believes it leads until its lease ends,
 *   ttl after it asked for it as timed on its own clock (clock_skew faults
 *   stretch or step it), or until a renewal is refused. Renewals travel as
 *   calls, so partitions and a coordinator without a majority stop them.
 *   Instance i first asks coordinator node i modulo the nodes, and the next
 *   node after a request goes unanswered for renew_every (a client moving to
 *   its next endpoint), so one crashed node does not cost a lease.
 *
 * Promotion: writes acknowledged by the old primary that the new one does
 * not hold are lost (async replication loses the lag window; sync and
 * quorum lose none); the other instances drop what the new primary lacks.
 * Rejoin: a deposed primary that learns of the new one is resynced from it,
 * and the writes it acknowledged alone meanwhile (the conflicting writes)
 * are lost too.
 * Under quorum replication (`quorum`, set by the database) the new primary
 * first takes the newest version of each key held by the instances it
 * reaches, as a consensus election recovers every write a write quorum
 * holds: replicas apply the log out of order, so no single one need hold
 * every acknowledged write.
 * An instance that believes it leads while another is the leader accepts
 * writes from the callers in its zone, unless `fencing` is on: then the
 * storage refuses writes of an older epoch (token). Under async replication
 * it acknowledges them alone (conflicting writes); under sync or quorum
 * replication it waits for acknowledgements from replicas that follow the
 * new primary, which never come: its callers time out, and nothing
 * conflicting was acknowledged (the database's commit). */
#ifndef ARCHSIM_MODELS_LEADERSHIP_H
#define ARCHSIM_MODELS_LEADERSHIP_H

#include "common.h"
#include "versions.h"

enum lead_mode { LEAD_FIXED, LEAD_FAILOVER, LEAD_LEASE };

struct lead_inst {
	uint32_t down;
	uint32_t crashed;   /* crash and zone_loss faults among down (not pauses) */
	bool believes;      /* accepts writes as the primary */
	uint64_t epoch;     /* the epoch it was granted */
	asim_time expiry;   /* lease: when it lapses, on its own clock */
	asim_time sent;     /* lease: its clock when its pending request left */
	struct model_clock clock; /* clock_skew faults */
	uint64_t alone;     /* writes it acknowledged while deposed, after warm-up */
	struct asim_call *pending; /* lease request in flight */
	uint16_t node;      /* lease: the coordinator node it asks now */
	struct asim_timer expiry_timer, timeout_timer, demote_timer;
};

struct leadership {
	enum lead_mode mode;
	bool promote, fencing;
	bool quorum; /* quorum replication: a new primary gathers (see above) */
	asim_time detection, ttl, renew_every;
	uint32_t coordinator, coord_instances;
	uint64_t lease_key;

	uint32_t n;
	uint16_t leader;
	bool need_leader;
	uint64_t epoch;
	uint64_t gen; /* bumped when the primary goes down: its unshipped log is lost */
	asim_time seen_expiry; /* latest lease expiry any grant showed */
	struct versions *ver; /* the database's, borrowed */
	struct lead_inst *inst;
	struct asim_timer detect_timer;
	bool cut;              /* failover: the last check found the primary cut off */

	/* Measured after warm-up (times clipped to it). */
	uint64_t changes, lost, conflicting, fenced, refused;
	uint32_t leaders_up;
	asim_time two_leader, two_since, unavailable, unavail_since;
};

/* Event types the leadership uses, from base; the database forwards them
 * (and every ASIM_EV_RESPONSE, which only lease requests cause). */
enum { LEAD_EV_DETECT, LEAD_EV_RENEW, LEAD_EV_TIMEOUT, LEAD_EV_EXPIRY, LEAD_EV_DEMOTE,
       LEAD_EV_CHECK, LEAD_EV_COUNT };

/* Parses `failover` and `leadership` of the database's mapping. */
bool lead_configure(struct leadership *L, struct asim_component *c, const struct asim_cfg *map,
                    struct asim_diag *d);
/* Allocates per-instance state once the instances and tables exist. */
bool lead_init(struct leadership *L, struct asim_component *c, struct versions *ver);
void lead_start(struct leadership *L, struct asim_component *c, uint16_t ev_base);
bool lead_up(const struct leadership *L, uint32_t i);
/* The instance a write from a caller in zone z goes to, or -1 when no
 * instance accepts writes. */
int lead_route_write(const struct leadership *L, const struct asim_component *c, uint16_t z);
/* At commit on instance i: false when the write must be refused (not the
 * primary any more, or fenced). */
bool lead_may_commit(struct leadership *L, struct asim_component *c, uint16_t i);
void lead_handle(struct leadership *L, struct asim_component *c, const struct asim_event *ev,
                 uint16_t ev_base);
/* Instance i, deposed but still believing it leads, acknowledged a write
 * alone: a conflicting write, counted here; the primary never gets it, so
 * the resync that ends i's belief discards it and counts it as lost (unless
 * i is promoted first). Only writes acknowledged after warm-up count. */
void lead_acked_alone(struct leadership *L, struct asim_component *c, uint16_t i);
/* Crash, zone_loss, pause (down) and clock_skew of instances. */
void lead_fault(struct leadership *L, struct asim_component *c, const struct asim_fault *f,
                bool active, uint16_t ev_base);
void lead_warmup_end(struct leadership *L, struct asim_component *c);
/* Closes the time accounts and adds the invariants to the kernel's outcome. */
void lead_finish(struct leadership *L, struct asim_component *c);
void lead_report(const struct leadership *L, const struct asim_component *c,
                 struct asim_results *r);
void lead_destroy(struct leadership *L);

#endif
