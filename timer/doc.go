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
// # Delivery: at least once, and twice only across a crash
//
// Claiming a due timer is atomic in the store, so that of several
// processes sharing a Redis only one gets it, and a claim holds a lease
// (WithLease). The runner settles the timer (Store.Ack) as soon as its
// handler returned, without waiting for the settles already under way (up
// to four at once; a timer whose handler returns while four are goes with
// the next); a settled timer never fires again. No timer is lost to a
// runner's crash: one its runner did not settle, because the process
// died or lost its store, is claimed again when its lease runs out, and so
// comes late by up to the lease. It fires a second time only if that happened after
// its handler began and before the store recorded the settle: while the
// handler ran, or in the one round trip after it returned. A timer whose
// handler and settle outlast its lease can also come twice, claimed again
// meanwhile: the runner logs each timer it settled after its lease ran
// out ("settled after its lease ran out"); keep the lease above the
// slowest handler.
//
// Exactly once cannot be promised for what a handler does outside the
// store, such as a message sent to a chat: the send and the settle are two
// steps in two systems, and a process killed between them repeats the send
// if the settle comes after it, and loses it if the settle comes first.
// The runner settles after, so that a reminder may be said twice across a
// crash but is never lost. A handler that would rather lose a send than
// make it twice records in its conversation's state (consumer.Stateful)
// which timer it acted on, under a mark the scheduling handler put in the
// event: its sends are held until that state is saved, so a repeat finds
// the mark and sends nothing, and a process killed between the save and
// the sends loses them; the package's example "at most once" shows how.
//
// Backends: the in-memory Store of this package (one process) and
// timer/redis (a sorted set per adapter; durable and shared). Both pass
// timer/timertest.
package timer
