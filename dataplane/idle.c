/* Idle back-off: the only place a worker lcore sleeps. See idle.h. */
#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include "idle.h"
#include "worker.h"

void idle_pause(struct worker *w)
{
	rte_rcu_qsbr_thread_offline(worker_shared.qsbr, w->index);
	rte_delay_us_sleep(worker_shared.idle_us);
	rte_rcu_qsbr_thread_online(worker_shared.qsbr, w->index);
}
