/* Names of the drop reasons, from the X-macro list in counters.h. */
#include "counters.h"

const char *const dp_drop_names[DP_DROP_MAX] = {
#define X(e, n, d) [DP_DROP_##e] = n,
	DP_DROP_REASONS(X)
#undef X
};

const char *const dp_drop_descr[DP_DROP_MAX] = {
#define X(e, n, d) [DP_DROP_##e] = d,
	DP_DROP_REASONS(X)
#undef X
};
