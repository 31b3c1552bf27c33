#ifndef MASTERPLAN_CFASTCGI_SHIM_H
#define MASTERPLAN_CFASTCGI_SHIM_H
#include <fcgiapp.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/prctl.h>

/* prctl(PR_SET_PDEATHSIG, signal): prctl is variadic, which Swift cannot call. */
static inline int masterplan_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}
#endif
