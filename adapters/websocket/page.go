package websocket

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed page/chat.html
var chatHTML string

var chatTemplate = template.Must(template.New("chat").Parse(chatHTML))

// ChatPage returns a handler that serves the web chat page: one HTML file
// with its script inline, no build step. The page opens a WebSocket to
// socketPath on the host it was loaded from (wss: under https:) and shows
// the conversation: what the user typed, every text message the bot
// sends, and a question's choices (event.Ask) as buttons, whose clicks
// answer it over the chat protocol (ChatSubprotocol). A "ws" query parameter overrides the path, so one page serves
// every bot of a server; it names a path on the page's own host and never
// another host, and the page's Content-Security-Policy lets it connect
// nowhere else.
//
// Config.PagePath serves it from the adapter; a program can also mount it
// on any route with Handler(ChatPage(path)).
func ChatPage(socketPath string) http.Handler {
	var buf bytes.Buffer
	if err := chatTemplate.Execute(&buf, struct{ Socket string }{socketPath}); err != nil {
		panic("websocket: chat page template: " + err.Error()) // the template is fixed at build time
	}
	page := buf.Bytes()
	modified := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", pagePolicy(r.Host))
		http.ServeContent(w, r, "chat.html", modified, bytes.NewReader(page))
	})
}

// pagePolicy is the chat page's Content-Security-Policy: its inline script
// and style, and connections to its own host only. 'self' covers ws: and
// wss: to the same host only in browsers that follow CSP level 3, so the
// WebSocket URLs of the host the page was loaded from are named too. A
// Host header that is not a plain host[:port] (it would be pasted into the
// policy) leaves 'self' alone.
func pagePolicy(host string) string {
	connect := "'self'"
	if plainHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src " + connect
}

// plainHost reports whether h is a host name or address with an optional
// port, made only of the characters those use.
func plainHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.', r == '-', r == ':', r == '[', r == ']':
		default:
			return false
		}
	}
	return true
}

// faviconPath is where browsers look for a site's icon.
const faviconPath = "/favicon.ico"

// favicon is the chat page's icon: a speech bubble, as SVG, which every
// current browser takes whatever the path's extension.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path fill="#2f6fde" d="M2 2h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H7l-4 3v-3H2a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1z"/></svg>`

var faviconModified = time.Now()

// serveFavicon answers a browser's request for the site's icon.
func serveFavicon(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=86400")
	http.ServeContent(w, r, "favicon.svg", faviconModified, strings.NewReader(favicon))
}
