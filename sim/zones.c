/* The scenario's zone table, kept in the kernel so that several kernels
 * (replications run in parallel) never share it. */
#include <string.h>

#include "kernel_private.h"

bool asim_kernel_set_zones(struct asim_kernel *k, const char *const *names, uint32_t n)
{
	if (n > ASIM_MAX_ZONES)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (strlen(names[i]) > ASIM_ZONE_NAME_MAX)
			return false;
	for (uint32_t i = 0; i < n; i++)
		strcpy(k->zone_names[i], names[i]);
	k->nzones = n;
	return true;
}

int asim_kernel_zone(const struct asim_kernel *k, const char *name)
{
	for (uint32_t i = 0; i < k->nzones; i++)
		if (!strcmp(k->zone_names[i], name))
			return (int)i;
	return -1;
}

uint32_t asim_kernel_zone_count(const struct asim_kernel *k)
{
	return k->nzones;
}

const char *asim_kernel_zone_name(const struct asim_kernel *k, uint32_t i)
{
	return i < k->nzones ? k->zone_names[i] : NULL;
}
