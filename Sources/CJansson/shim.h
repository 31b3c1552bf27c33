#ifndef MASTERPLAN_CJANSSON_SHIM_H
#define MASTERPLAN_CJANSSON_SHIM_H
#include <jansson.h>

/* Replaces the function-like macro JSON_INDENT(n), which Swift cannot import. */
static inline size_t mp_json_indent(int n) { return JSON_INDENT(n); }

/* Replaces the function-like macro JSON_REAL_PRECISION(n), which Swift cannot import. */
static inline size_t mp_json_real_precision(int n) { return JSON_REAL_PRECISION(n); }

#endif
