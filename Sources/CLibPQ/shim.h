#ifndef MASTERPLAN_CLIBPQ_SHIM_H
#define MASTERPLAN_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>
#endif
