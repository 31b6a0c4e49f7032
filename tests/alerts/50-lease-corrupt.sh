#!/usr/bin/env bash
# A lease key or fence counter that no lease holder wrote does not stop
# escalations for good. A lease value that is not "<instance> <fence>", or
# one without an expiry, is taken over. A fence counter below 1 is reported
# as an error, and the lease is taken once the counter is usable again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_alerts.sh
source "$here/lib_alerts.sh"
lib_init
alerts_setup
write_config
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
loaded() { grep -c 'msg="escalation state loaded' "$1" || true; }

# A value that is no lease, without an expiry, before the start.
rcli set '{alerts}:alerts:lease' garbage >/dev/null
start_daemon "$work/daemon-1.log"
wait_evaluating "$work/daemon-1.log" 10

# A well-formed lease of another instance, but without an expiry, while running.
rcli set '{alerts}:alerts:lease' 'gone-instance 99' >/dev/null
lib_wait_for "[ \"\$(loaded '$work/daemon-1.log')\" = 2 ]" 10 ||
	fail_with_logs "the lease without an expiry was not taken over"
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"

# A fence counter of -1 would give fence 0, which means "held by another".
rcli set '{alerts}:alerts:fence' -1 >/dev/null
start_daemon "$work/daemon-2.log"
wait_evaluating "$work/daemon-2.log" 10
grep -q 'msg="cannot ask for the escalation lease".*not a fence' "$work/daemon-2.log" ||
	fail_with_logs "the fence counter below 1 was not reported"
lease=$(rcli get '{alerts}:alerts:lease')
[[ $lease == *" 1" ]] || fail_with_logs "lease after the counter was repaired: $lease"
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"
lib_log "lease: garbage and expiry-less values taken over, fence below 1 reported"
