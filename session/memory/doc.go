// Package memory is the in-memory session store: the default of a single
// process, lost when the process ends. Use session/redis to keep sessions
// across restarts and share them between processes.
//
// Loads and saves read no clock: the store keeps its own time, moved once
// per resolution (a second by default, WithResolution) by a timer that
// ends with the store, so a value lives at least its time to live and at
// most two resolutions more. There is nothing to close.
package memory
