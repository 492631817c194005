package xmpp

// WithHistory makes the adapter ask rooms for the history they keep when
// it joins, as a server that ignores the request for none sends it, so
// that tests see the replay skipped.
func WithHistory() Option { return func(a *Adapter) { a.noHistory = false } }

var WhileWriting = whileWriting
