#ifndef MASTERPLAN_CFASTCGI_SHIM_H
#define MASTERPLAN_CFASTCGI_SHIM_H
#include <fcgiapp.h>
#include <sys/stat.h>
#include <poll.h>
#endif
