/* The operation tables of every component kind, for the registry and tests. */
#ifndef ARCHSIM_MODELS_MODELS_H
#define ARCHSIM_MODELS_MODELS_H

#include "archsim/model.h"

extern const struct asim_model_ops asim_client_ops;
extern const struct asim_model_ops asim_load_balancer_ops;
extern const struct asim_model_ops asim_service_ops;
extern const struct asim_model_ops asim_gateway_ops;
extern const struct asim_model_ops asim_cache_ops;
extern const struct asim_model_ops asim_database_ops;
extern const struct asim_model_ops asim_queue_ops;
extern const struct asim_model_ops asim_worker_ops;
extern const struct asim_model_ops asim_coordinator_ops;

#endif
