package playground

import (
	"errors"
	"fmt"
	"os"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Stand is where the rewritten config points Telegram and Slack.
type Stand struct {
	TelegramToken, TelegramEndpoint        string
	SlackBotToken, SlackAppToken, SlackAPI string
}

// defaultConfig is what the playground runs without a file.
const defaultConfig = `websocket: {addr: "127.0.0.1:8080", page_path: /, page_socket: /ws/chat/}
telegram: {}
slack: {}
routes:
  websocket:
    paths:
      - {path: /ws/chat/, bot: wschat}
  telegram: {bot: echo}
  slack: {bot: echo}
`

// Rewrite returns the config file data with its telegram and slack
// sections (by kind: the section's key, or its kind: key) pointed at the
// stand-ins. It also returns the web chat page's URL, when the config
// serves one on a fixed address.
func Rewrite(data []byte, s Stand) (out []byte, page string, err error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, "", err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, "", errors.New("the config is not a mapping of sections")
	}
	doc := root.Content[0]
	found := false
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, sec := doc.Content[i].Value, doc.Content[i+1]
		if sec.Kind == yaml.ScalarNode && sec.Tag == "!!null" {
			sec.Kind, sec.Tag, sec.Value = yaml.MappingNode, "!!map", ""
		}
		if sec.Kind != yaml.MappingNode {
			continue
		}
		kind := key
		if k := get(sec, "kind"); k != nil {
			kind = k.Value
		}
		switch kind {
		case "telegram":
			found = true
			drop(sec, "webhook", "mode", "enabled") // a section turned off by the environment plays too
			set(sec, "token", s.TelegramToken)
			set(sec, "endpoint", s.TelegramEndpoint)
			set(sec, "mode", "polling")
		case "slack":
			found = true
			drop(sec, "enabled", "mode", "signing_secret", "listen", "listener", "events_path", "commands_path", "interactivity_path")
			set(sec, "mode", "socket")
			set(sec, "bot_token", s.SlackBotToken)
			set(sec, "app_token", s.SlackAppToken)
			set(sec, "api_url", s.SlackAPI)
		case "websocket":
			if addr, p := get(sec, "addr"), get(sec, "page_path"); addr != nil && p != nil {
				page = expand(fmt.Sprintf("http://%s%s", addr.Value, p.Value))
			}
		}
	}
	if !found {
		return nil, "", errors.New("the config has no telegram or slack section to play with")
	}
	out, err = yaml.Marshal(&root)
	return out, page, err
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expand replaces ${VAR} and ${VAR:-default} as botserver does.
func expand(s string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v := os.Getenv(m[1]); v != "" {
			return v
		}
		return m[3]
	})
}

func get(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func set(m *yaml.Node, key, value string) {
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func drop(m *yaml.Node, keys ...string) {
	out := m.Content[:0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		skip := false
		for _, k := range keys {
			skip = skip || m.Content[i].Value == k
		}
		if !skip {
			out = append(out, m.Content[i], m.Content[i+1])
		}
	}
	m.Content = out
}
