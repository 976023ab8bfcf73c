/*
 * saslmaps - the credentials of the smart hosts as a table Postfix reads
 * (interface in saslmaps.c)
 */
#ifndef MR_SASLMAPS_H
#define MR_SASLMAPS_H

#include "config.h"

#define SASLMAPS_TABLE	"sasl_passwd.lmdb"
#define SASLMAPS_MODE	0600

int	saslmaps_publish(const struct config *config);

#endif
