// Package report shows background work in a worker process: a chat bot
// that, asked "/report <topic>", hands a job to the "report.jobs" channel
// and answers when the result comes back through the channel layer, and
// the worker consumer that serves that channel. Run the worker with
// `botserver worker -config FILE report.jobs`, in the same process or in
// another one on the same Redis layer.
package report
