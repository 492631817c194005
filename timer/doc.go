// Package timer schedules events into conversations: "remind me in an
// hour" as After(ctx, s, "remind", time.Hour, ev), kept in a Store so that
// it fires also after the conversation ended idle and after a restart.
//
// A handler schedules with After or At and cancels with Cancel, under a
// name of its own per conversation; scheduling a name again replaces the
// pending timer. Middleware puts the store on the scope. A Runner, one per
// adapter and process, claims the timers that are due and delivers each
// into its conversation's scope through the scope manager, starting a new
// scope from the facts the timer kept when the conversation has none, so
// the event reaches the consumer like any other.
//
// Delivery is once: claiming a due timer is atomic in the store, so that of
// several processes sharing a Redis only one gets it, and a claim holds a
// lease that the runner settles (Ack) once the timer's handler returned. A
// runner that dies before that leaves the timer to be claimed again when
// the lease runs out: across a crash a timer may come late by the lease,
// and, if the crash falls between its handler's return and its ack, twice;
// it is never lost.
//
// Backends: the in-memory Store of this package (one process) and
// timer/redis (a sorted set per adapter; durable and shared). Both pass
// timer/timertest.
package timer
