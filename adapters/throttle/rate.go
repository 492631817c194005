package throttle

import (
	"cmp"
	"time"

	"github.com/switchboard-bots/switchboard/scope"
)

// Rate is a Bucket's settings as an adapter's config section gives them,
// for example flood: {burst: 5, interval: 2s}.
type Rate struct {
	// Burst is how many calls may go at once.
	Burst int `yaml:"burst"`
	// Interval is how long the bucket takes to gain one call back.
	Interval time.Duration `yaml:"interval"`
}

// Or returns r with def's Burst and Interval where r's are zero or
// negative: an adapter's defaults for what its section leaves out.
func (r Rate) Or(def Rate) Rate {
	return Rate{Burst: cmp.Or(max(r.Burst, 0), def.Burst), Interval: cmp.Or(max(r.Interval, 0), def.Interval)}
}

// Bucket returns a new Bucket at r on clock (nil: the wall clock).
func (r Rate) Bucket(clock scope.Clock) *Bucket { return New(r.Burst, r.Interval, clock) }
