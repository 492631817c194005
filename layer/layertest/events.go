package layertest

import (
	"fmt"
	"reflect"

	"github.com/switchboard-bots/switchboard/event"
)

// Ping is the event the cases send.
type Ping struct {
	N    int    `msgpack:"n"`
	Text string `msgpack:"text"`
}

// Type implements event.Event.
func (Ping) Type() string { return "test.ping" }

// marker is sent after the messages a case expects, to prove that nothing
// else is queued: the next message received must be the marker.
var marker = Ping{N: -1, Text: "marker"}

// sameEvent reports whether got carries the same type and fields as want,
// comparing generic forms so that a backend may return the typed value it
// was given or the Message it decoded. Numbers are compared by value,
// since MessagePack keeps the value of an int but not its Go type.
func sameEvent(want, got event.Event) (bool, string) {
	if got == nil {
		return false, fmt.Sprintf("got nil, want %#v", want)
	}
	wm, err := event.ToMessage(want)
	if err != nil {
		return false, fmt.Sprintf("want %#v: %v", want, err)
	}
	gm, err := event.ToMessage(got)
	if err != nil {
		return false, fmt.Sprintf("got %#v: %v", got, err)
	}
	w, g := normalize(map[string]any(wm)), normalize(map[string]any(gm))
	if reflect.DeepEqual(w, g) {
		return true, ""
	}
	return false, fmt.Sprintf("got %v, want %v", g, w)
}

// normalize maps every integer to int64 (or uint64 above its range), every
// float to float64, every slice but []byte to []any and every map to
// map[string]any, so that values equal after a MessagePack round trip
// compare equal.
func normalize(v any) any {
	if v == nil {
		return nil
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := r.Uint(); u > 1<<63-1 {
			return u
		}
		return int64(r.Uint())
	case reflect.Float32, reflect.Float64:
		return r.Float()
	case reflect.String:
		return r.String()
	case reflect.Bool:
		return r.Bool()
	case reflect.Slice, reflect.Array:
		if r.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, r.Len())
			reflect.Copy(reflect.ValueOf(b), r)
			return b
		}
		out := make([]any, r.Len())
		for i := range out {
			out[i] = normalize(r.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, r.Len())
		for it := r.MapRange(); it.Next(); {
			out[fmt.Sprint(it.Key().Interface())] = normalize(it.Value().Interface())
		}
		return out
	}
	return v
}
