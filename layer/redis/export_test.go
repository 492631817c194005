package redis

import "time"

// SetRefreshEvery changes how long l lets a key wait for the time to live
// of a bare add, before l first sends. Zero sets it with every add.
func SetRefreshEvery(l *Layer, d time.Duration) { l.tallies.every = d.Microseconds() }

// SetMultiPop has l's receive loops of process-local channels pop with
// BZMPOP (on), or with BZPOPMIN and ZPOPMIN as on a Redis without it.
func SetMultiPop(l *Layer, on bool) { l.noMultiPop.Store(!on) }
