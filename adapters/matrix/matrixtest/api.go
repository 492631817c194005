package matrixtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxSync bounds a sync's timeout, as servers do.
const maxSync = 30 * time.Second

// sync answers GET /sync: everything in the stream after since, at most
// batch entries, at once if there is any, else when something comes or
// timeout (milliseconds) passes.
func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since := 0
	initial := q.Get("since") == "" // answered at once, as servers do
	if tok := q.Get("since"); tok != "" {
		var ok bool
		if since, ok = Position(tok); !ok {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "Invalid since token "+strconv.Quote(tok))
			return
		}
	}
	timeout := time.Duration(0)
	if v := q.Get("timeout"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "timeout must be a number of milliseconds")
			return
		}
		timeout = min(time.Duration(ms)*time.Millisecond, maxSync)
	}
	if f := q.Get("filter"); f != "" && f[0] == '{' && !json.Valid([]byte(f)) {
		writeError(w, http.StatusBadRequest, "M_NOT_JSON", "filter is not valid JSON")
		return
	}
	s.mu.Lock()
	s.syncs++
	if s.failSyncs > 0 {
		s.failSyncs--
		s.signalLocked()
		s.mu.Unlock()
		writeError(w, http.StatusBadGateway, "M_UNKNOWN", "Bad Gateway")
		return
	}
	s.inSync++
	s.signalLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inSync--
		s.mu.Unlock()
	}()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if since > len(s.stream) {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "since token from the future")
			return
		}
		if resp, ok := s.answerLocked(since); ok || initial || timeout == 0 {
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, resp)
			return
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			timeout = 0
		case <-r.Context().Done():
			return
		}
	}
}

type syncRoom struct {
	pos      []int // of the timeline's events
	Timeline struct {
		Events    []map[string]any `json:"events"`
		Limited   bool             `json:"limited"`
		PrevBatch string           `json:"prev_batch"`
	} `json:"timeline"`
	State struct {
		Events []map[string]any `json:"events"`
	} `json:"state"`
}

type inviteRoom struct {
	InviteState struct {
		Events []map[string]any `json:"events"`
	} `json:"invite_state"`
}

// answerLocked builds the sync answer from since, and reports whether it
// holds anything.
func (s *Server) answerLocked(since int) (map[string]any, bool) {
	end := min(len(s.stream), since+s.batch)
	join := map[string]*syncRoom{}
	invite := map[string]*inviteRoom{}
	for pos := since + 1; pos <= end; pos++ {
		e := s.stream[pos-1]
		r := s.rooms[e.room]
		switch {
		case e.invite && !r.joined:
			ir := &inviteRoom{}
			ir.InviteState.Events = e.ev["events"].([]map[string]any)
			invite[e.room] = ir
		case e.invite:
		case r.joined:
			jr, ok := join[e.room]
			if !ok {
				jr = &syncRoom{}
				jr.Timeline.Events = []map[string]any{}
				jr.State.Events = []map[string]any{}
				jr.Timeline.PrevBatch = "s" + strconv.Itoa(pos-1)
				join[e.room] = jr
			}
			jr.Timeline.Events = append(jr.Timeline.Events, e.ev)
			jr.pos = append(jr.pos, pos)
		}
	}
	for _, jr := range join {
		if cut := len(jr.Timeline.Events) - s.tlimit; s.tlimit > 0 && cut > 0 {
			jr.Timeline.Events = jr.Timeline.Events[cut:]
			jr.Timeline.Limited = true
			jr.Timeline.PrevBatch = "s" + strconv.Itoa(jr.pos[cut]-1)
		}
	}
	resp := map[string]any{
		"next_batch": "s" + strconv.Itoa(end),
		"rooms":      map[string]any{"join": join, "invite": invite, "leave": map[string]any{}},
	}
	return resp, len(join)+len(invite) > 0
}

// messages answers GET /rooms/{room}/messages with dir=b: the room's
// timeline events from from backwards, down to to (exclusive), newest
// first, at most limit (default 10); end, omitted at the start of the
// room or at to, continues.
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	roomID := r.PathValue("room")
	from, ok := Position(q.Get("from"))
	if !ok || q.Get("dir") != "b" {
		writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "from must be a token of this server, and dir b")
		return
	}
	to := 0
	if t := q.Get("to"); t != "" {
		if to, ok = Position(t); !ok {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "Invalid to token")
			return
		}
	}
	limit := 10
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "limit must be a positive number")
			return
		}
		limit = min(n, 1000)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rm, known := s.rooms[roomID]
	if !known || !rm.joined {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "User "+s.userID+" not in room "+roomID)
		return
	}
	chunk := []map[string]any{}
	pos := min(from, len(s.stream))
	for ; pos > to && len(chunk) < limit; pos-- {
		if e := s.stream[pos-1]; e.room == roomID && !e.invite {
			chunk = append(chunk, e.ev)
		}
	}
	resp := map[string]any{"chunk": chunk, "start": q.Get("from")}
	if pos > to {
		resp["end"] = "s" + strconv.Itoa(pos)
	}
	writeJSON(w, http.StatusOK, resp)
}

// send answers PUT /rooms/{room}/send/{type}/{txn}.
func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	roomID, typ, txn := r.PathValue("room"), r.PathValue("type"), r.PathValue("txn")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 65536))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "event too large")
		return
	}
	var content map[string]any
	if err := json.Unmarshal(body, &content); err != nil || content == nil {
		writeError(w, http.StatusBadRequest, "M_NOT_JSON", "Content not JSON")
		return
	}
	s.mu.Lock()
	now := time.Now()
	if now.Before(s.limited) {
		s.violation = append(s.violation, fmt.Sprintf("send to %s (txn %s) %v before the end of the rate limit answered to txn %s",
			roomID, txn, s.limited.Sub(now).Round(time.Millisecond), s.limitedTxn))
		left := s.limited.Sub(now)
		s.mu.Unlock()
		writeLimited(w, left)
		return
	}
	if id, ok := s.txns[txn]; ok {
		// The same transaction again: the same event, not a new one.
		s.replays++
		lose := s.loseNext > 0
		if lose {
			s.loseNext--
		}
		s.mu.Unlock()
		if lose {
			hangUp(w)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"event_id": id})
		return
	}
	rm, ok := s.rooms[roomID]
	switch {
	case !ok || !rm.joined:
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "User "+s.userID+" not in room "+roomID)
		return
	case rm.refused:
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "You don't have permission to post that to the room.")
		return
	}
	if l := s.limit; l.Burst > 0 {
		kept := s.window[:0]
		for _, at := range s.window {
			if now.Sub(at) < l.Per {
				kept = append(kept, at)
			}
		}
		s.window = kept
		if len(s.window) >= l.Burst {
			s.limited = now.Add(l.RetryAfter)
			s.limitedTxn = txn
			s.mu.Unlock()
			writeLimited(w, l.RetryAfter)
			return
		}
		s.window = append(s.window, now)
	}
	key := roomID + "\x00" + string(canonical(content))
	if s.lost[key] {
		s.violation = append(s.violation, fmt.Sprintf("send to %s (txn %s) repeats under a new transaction id a message already committed", roomID, txn))
	}
	ev := s.eventLocked(typ, s.userID, content)
	id := ev["event_id"].(string)
	s.txns[txn] = id
	s.sent = append(s.sent, Sent{Room: roomID, Type: typ, TxnID: txn, EventID: id, Content: content})
	s.appendLocked(entry{room: roomID, ev: ev})
	lose := s.loseNext > 0
	if lose {
		s.loseNext--
		s.lost[key] = true
	}
	s.mu.Unlock()
	if lose {
		hangUp(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"event_id": id})
}

// canonical is content's JSON with sorted keys, to compare contents.
func canonical(content map[string]any) []byte {
	b, _ := json.Marshal(content) // maps marshal with sorted keys
	return b
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeLimited(w http.ResponseWriter, left time.Duration) {
	ms := max(1, left.Milliseconds())
	w.Header().Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": ms})
}

// join answers POST /join/{room}: the bot joins a room it was invited to.
func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	roomID := r.PathValue("room")
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 65536))
	s.mu.Lock()
	rm, ok := s.rooms[roomID]
	switch {
	case !ok:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "No known servers")
		return
	case !rm.invited && !rm.joined:
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "You are not invited to this room.")
		return
	}
	if !rm.joined {
		rm.joined = true
		s.appendLocked(entry{room: roomID, ev: s.stateEventLocked("m.room.member", s.userID, s.userID, map[string]any{"membership": "join"})})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"room_id": roomID})
}
