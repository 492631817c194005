package telegram

import (
	"net/url"
	"strconv"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// A call's form is what the library would send: url.Values' encoding of
// the same parameters, escapes and key order included.
func TestEncodeFormAsLibrary(t *testing.T) {
	many := tgbotapi.Params{}
	for i := range 20 { // more keys than encodeForm keeps on its stack
		many["k"+strconv.Itoa(i)] = "v" + strconv.Itoa(i)
	}
	for _, p := range []tgbotapi.Params{
		nil,
		{},
		{"chat_id": "7", "text": "You said: hello"},
		{"chat_id": "-100123", "text": "a&b=c d+é😀\n%", "reply_markup": `{"inline_keyboard":[[{"text":"ok","callback_data":"x"}]]}`},
		{"": "", "a b": "", "z": "1"},
		many,
	} {
		want := url.Values{}
		for k, v := range p {
			want.Set(k, v)
		}
		if got := encodeForm(p); got != want.Encode() {
			t.Errorf("encodeForm(%v) = %q, want %q", p, got, want.Encode())
		}
	}
}

func FuzzEncodeForm(f *testing.F) {
	f.Add("chat_id", "7", "text", "a&b=c d+é")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		p := tgbotapi.Params{k1: v1, k2: v2}
		want := url.Values{}
		for k, v := range p {
			want.Set(k, v)
		}
		if got := encodeForm(p); got != want.Encode() {
			t.Fatalf("encodeForm(%v) = %q, want %q", p, got, want.Encode())
		}
	})
}
