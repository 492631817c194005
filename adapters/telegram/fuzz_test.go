package telegram

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
)

// Real-shaped updates: what Telegram sends, including kinds and fields
// the library does not know.
var seedUpdates = []string{
	`{"update_id":1,"message":{"message_id":5,"from":{"id":7,"is_bot":false,"first_name":"Ann","last_name":"Lee","username":"ann","language_code":"en"},"chat":{"id":7,"first_name":"Ann","username":"ann","type":"private"},"date":1700000000,"text":"/start@switchboard_bot deep link","entities":[{"offset":0,"length":22,"type":"bot_command"}]}}`,
	`{"update_id":2,"message":{"message_id":6,"from":{"id":7,"first_name":"Ann"},"chat":{"id":-100123,"title":"Team","type":"supergroup","is_forum":true},"date":1700000001,"message_thread_id":33,"is_topic_message":true,"text":"/héllo😀 wörld","entities":[{"offset":0,"length":8,"type":"bot_command"}]}}`,
	`{"update_id":3,"edited_message":{"message_id":5,"from":{"id":7,"first_name":"Ann"},"chat":{"id":7,"type":"private"},"date":1,"edit_date":2,"text":"fixed"}}`,
	`{"update_id":4,"callback_query":{"id":"4382","from":{"id":7,"first_name":"Ann"},"message":{"message_id":9,"chat":{"id":-100123,"type":"supergroup"},"date":1,"message_thread_id":33,"is_topic_message":true,"text":"menu"},"chat_instance":"-55","data":"yes"}}`,
	`{"update_id":5,"callback_query":{"id":"4383","from":{"id":7,"first_name":"Ann"},"inline_message_id":"AAA","chat_instance":"1","data":"x"}}`,
	`{"update_id":6,"message":{"message_id":10,"from":{"id":7,"first_name":"Ann"},"chat":{"id":7,"type":"private"},"date":1,"photo":[{"file_id":"p1","file_unique_id":"u1","width":90,"height":60,"file_size":1200}],"caption":"look","reply_to_message":{"message_id":4,"chat":{"id":7,"type":"private"},"date":1}}}`,
	`{"update_id":7,"message":{"message_id":11,"from":{"id":7,"first_name":"Ann"},"chat":{"id":7,"type":"private"},"date":1,"document":{"file_id":"d1","file_unique_id":"u2","file_name":"a.pdf","mime_type":"application/pdf","file_size":999}}}`,
	`{"update_id":8,"message":{"message_id":12,"from":{"id":7,"first_name":"Ann"},"chat":{"id":7,"type":"private"},"date":1,"voice":{"file_id":"v1","file_unique_id":"u3","duration":3,"mime_type":"audio/ogg"}}}`,
	`{"update_id":9,"channel_post":{"message_id":1,"sender_chat":{"id":-1009,"title":"News","type":"channel"},"chat":{"id":-1009,"title":"News","type":"channel"},"date":1,"text":"post"}}`,
	`{"update_id":10,"my_chat_member":{"chat":{"id":-5,"title":"G","type":"group"},"from":{"id":7,"first_name":"Ann"},"date":1,"old_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"B"},"status":"left"},"new_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"B"},"status":"member"}}}`,
	`{"update_id":11,"message_reaction":{"chat":{"id":-5,"type":"group","title":"G"},"message_id":3,"user":{"id":7,"first_name":"Ann"},"date":1,"old_reaction":[],"new_reaction":[{"type":"emoji","emoji":"👍"}]}}`,
	`{"update_id":12,"business_message":{"business_connection_id":"bc","message_id":1,"from":{"id":7,"first_name":"Ann"},"chat":{"id":7,"type":"private"},"date":1,"text":"hi"}}`,
	`{"update_id":13,"inline_query":{"id":"iq","from":{"id":7,"first_name":"Ann"},"query":"cats","offset":""}}`,
	`{"update_id":14,"poll":{"id":"p","question":"?","options":[],"total_voter_count":0,"is_closed":false,"is_anonymous":true,"type":"regular","allows_multiple_answers":false}}`,
	`{"update_id":15,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"date":1,"text":"/x","entities":[{"offset":0,"length":99,"type":"bot_command"}]}}`,
	`{"update_id":16,"message":"not an object"}`,
	`{"message":{}}`,
	`[]`,
	``,
}

// The update decoder never panics, and whatever it accepts is an update
// with an id, a key, an event that survives the channel layer's encoding,
// and (for messages) a command that is really at the start of the text
// and a reply addressed to the message's own chat and topic.
func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range seedUpdates {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, byUser bool) {
		keyBy := KeyChat
		if byUser {
			keyBy = KeyChatUser
		}
		in, err := decodeUpdate(raw, keyBy)
		if err != nil {
			return
		}
		if in.id <= 0 || in.key == "" || in.ev == nil {
			t.Fatalf("accepted %q as id %d key %q event %v", raw, in.id, in.key, in.ev)
		}
		if !strings.HasPrefix(in.ev.Type(), "telegram.") {
			t.Fatalf("event type %q", in.ev.Type())
		}
		data, err := event.Marshal(in.ev)
		if err != nil {
			t.Fatalf("event does not encode: %v", err)
		}
		if _, err := event.Unmarshal(data); err != nil {
			t.Fatalf("event does not decode: %v", err)
		}
		if m, ok := in.ev.(Message); ok {
			if m.Command != "" && !strings.HasPrefix(m.Text, "/"+m.Command) {
				t.Fatalf("command %q is not at the start of %q", m.Command, m.Text)
			}
			back, err := event.Decode[Message](mustMessage(t, m))
			if err != nil || back.Text != m.Text || back.Chat != m.Chat || string(back.Raw) != string(m.Raw) {
				t.Fatalf("message does not survive the layer: %+v vs %+v (%v)", back, m, err)
			}
			reply := m.ChatReply("ok").(Send)
			if reply.ChatID != m.Chat.ID || reply.ThreadID != m.ThreadID || reply.ReplyTo != m.MessageID {
				t.Fatalf("reply %+v to %+v", reply, m)
			}
		}
	})
}

func mustMessage(t *testing.T, ev event.Event) event.Event {
	m, err := event.ToMessage(ev)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The seeds decode as Telegram means them.
func TestDecodeSeeds(t *testing.T) {
	in, err := decodeUpdate([]byte(seedUpdates[1]), KeyChat)
	if err != nil {
		t.Fatal(err)
	}
	m := in.ev.(Message)
	if m.Command != "héllo😀" || m.Args != "wörld" || m.ThreadID != 33 || in.key != "-100123:33" {
		t.Fatalf("topic command: %+v key %q", m, in.key)
	}
	in, _ = decodeUpdate([]byte(seedUpdates[0]), KeyChat)
	if m := in.ev.(Message); m.Command != "start" || m.Mention != "switchboard_bot" || m.Args != "deep link" {
		t.Fatalf("command: %+v", m)
	}
	in, _ = decodeUpdate([]byte(seedUpdates[10]), KeyChatUser)
	if u := in.ev.(Update); u.Kind != "message_reaction" || u.Chat.ID != -5 || u.From.ID != 7 || in.key != "-5/7" {
		t.Fatalf("reaction: %+v key %q", u, in.key)
	}
	in, _ = decodeUpdate([]byte(seedUpdates[3]), KeyChat)
	if q := in.ev.(CallbackQuery); q.Data != "yes" || q.ThreadID != 33 || in.key != "-100123:33" {
		t.Fatalf("callback: %+v key %q", q, in.key)
	}
	in, _ = decodeUpdate([]byte(seedUpdates[5]), KeyChat)
	if m := in.ev.(Message); m.ChatText() != "look" || len(m.Photo) != 1 || m.ReplyToMessageID != 4 {
		t.Fatalf("photo: %+v", m)
	}
	if in, _ = decodeUpdate([]byte(seedUpdates[14]), KeyChat); in.ev.(Message).Command != "" {
		t.Fatalf("an entity longer than the text made a command")
	}
	for _, bad := range seedUpdates[15:] {
		if _, err := decodeUpdate([]byte(bad), KeyChat); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	in, _ = decodeUpdate([]byte(seedUpdates[2]), KeyChat)
	if _, ok := in.ev.(EditedMessage); !ok {
		t.Fatalf("edited: %T", in.ev)
	}
}

// splitList agrees with encoding/json on every list encoding/json
// accepts: the same elements, byte for byte, and never panics on anything.
func FuzzSplitList(f *testing.F) {
	f.Add(`[` + strings.Join(seedUpdates, ",") + `]`)
	f.Add(" [ \n]\t")
	f.Add(`[1, "a\"]", [2,{"b":"}"}], null, true, -1.5e3, {"c":[]}]`)
	f.Add(`[{"update_id":1,"message":{"text":"\\"}}]`)
	f.Add(`[{]`)
	f.Add(`[{"a":1},]`)
	f.Fuzz(func(t *testing.T, in string) {
		got, err := splitList([]byte(in))
		var want []json.RawMessage
		if json.Unmarshal([]byte(in), &want) != nil || want == nil {
			return // not a list encoding/json accepts: splitList may refuse it or split it any way
		}
		if err != nil {
			t.Fatalf("splitList(%q): %v; encoding/json reads %d elements", in, err, len(want))
		}
		if len(got) != len(want) {
			t.Fatalf("splitList(%q): %d elements, encoding/json %d", in, len(got), len(want))
		}
		for i := range want {
			if string(got[i]) != string(want[i]) {
				t.Fatalf("splitList(%q)[%d] = %q, encoding/json %q", in, i, got[i], want[i])
			}
		}
	})
}
