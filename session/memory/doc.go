// Package memory is the in-memory session store: the default of a single
// process, lost when the process ends. Use session/redis to keep sessions
// across restarts and share them between processes.
package memory
