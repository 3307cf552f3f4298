/* The registry of component kinds: one const table, searched by name. */
#include <string.h>

#include "archsim/model.h"
#include "models.h"

static const struct asim_model_ops *const kinds[] = {
	&asim_client_ops,
	&asim_load_balancer_ops,
	&asim_service_ops,
	&asim_gateway_ops,
	&asim_cache_ops,
	&asim_database_ops,
	&asim_queue_ops,
	&asim_worker_ops,
	&asim_coordinator_ops,
};

#define NKINDS (sizeof kinds / sizeof kinds[0])

const struct asim_model_ops *asim_model_find(const char *kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(kinds[i]->kind, kind))
			return kinds[i];
	return NULL;
}

const char *const *asim_model_kinds(void)
{
	static const char *names[NKINDS + 1];
	for (size_t i = 0; i < NKINDS; i++)
		names[i] = kinds[i]->kind;
	names[NKINDS] = NULL;
	return names;
}
