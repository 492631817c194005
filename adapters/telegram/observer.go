package telegram

import (
	"github.com/switchboard-bots/switchboard/adapters"
)

// WithObserver reports rate-limit waits and retries of a Bot API call (a
// send, getMe, setWebhook, deleteWebhook) to o with the adapter's name,
// from the start: for an adapter that only pushes, outside a Host. Run by
// a Host, the adapter reports to the Host's observer (Intake.Report)
// unless this option set one. The getUpdates long poll is not counted: it
// is repeated forever by design, and its failures are logged instead.
// Default: none; a nil o means none.
func WithObserver(o adapters.Observer) Option { return func(opts *options) { opts.obs = o } }
