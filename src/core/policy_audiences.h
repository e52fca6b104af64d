/* policy_audiences.h: the audiences table's loader, for policy.c only (the module's public
 * interface is sa_policy.h). */
#ifndef SA_POLICY_AUDIENCES_H
#define SA_POLICY_AUDIENCES_H

#include "sa_policy.h"
#include "sa_schema.h"

/* Loads "audiences" of top into p->audiences and its two indexes, recording errors in e. */
void sa_policy_audiences_load(sa_yaml_errors *e, const sa_schema_section *top, sa_policy *p);
/* Frees what sa_policy_audiences_load put in p (also after a failed load). */
void sa_policy_audiences_free(sa_policy *p);

#endif
