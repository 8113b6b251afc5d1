/* Idle back-off for worker lcores (off by default): after a run of empty polls a worker
 * sleeps briefly, as DPDK's l3fwd-power does, so a small lab machine stays usable. Runs on
 * the worker but only when it has nothing to do, which is why it lives outside worker.c. */
#ifndef DP_IDLE_H
#define DP_IDLE_H

struct worker;

/* Go RCU-offline (so the main lcore never waits on a sleeper), sleep
 * worker_shared.idle_us, come back online. */
void idle_pause(struct worker *w);

#endif
