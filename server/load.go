package server

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/ops/logs"
)

// ConfigError is a problem with a config file, at a line, about a key.
type ConfigError struct {
	File string // "" for the embedded default
	Line int    // 0 when unknown
	Key  string // the dotted key, when known
	Err  error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	msg := e.Err.Error()
	if e.Key != "" {
		// The key once: errors wrapped on their way up ("telegram:
		// telegram: mode must be...") name it at each layer.
		for strings.HasPrefix(msg, e.Key+": ") {
			msg = msg[len(e.Key)+2:]
		}
		if !strings.HasPrefix(msg, e.Key) {
			b.WriteString(e.Key + ": ")
		}
	}
	b.WriteString(msg)
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ErrUnknownKey is wrapped by errors about keys the config does not have.
var ErrUnknownKey = errors.New("unknown key")

// Load reads a config file. ${VAR} and ${VAR:-default} in values expand
// from getenv (os.Getenv when nil), so secrets stay out of files; a ${VAR}
// that is unset and has no default is an error. Unknown keys, values of the
// wrong type and missing credentials are errors naming the file, line and
// key. Load does not check the routes' bot names: Validate does, given the
// registry.
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, getenv)
}

// Parse is Load for a file already read; name is used in errors.
func Parse(name string, data []byte, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c, err := parse(name, data, getenv)
	if err != nil {
		// The errors quote values; none may show a secret.
		red := logs.Redactor{}
		if c != nil {
			red = c.Redactor()
		}
		return nil, &redactedError{err: err, msg: red.String(err.Error())}
	}
	return c, nil
}

// redactedError is an error whose text has the config's secrets masked.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// secretKey matches the names of settings whose values are secrets.
var secretKey = regexp.MustCompile(`(?i)token|secret|password|passwd|encryption_keys|api_key|private_key`)

// collectSecrets returns the values of n's secret settings, at any depth.
func collectSecrets(n *yaml.Node) []string {
	var out []string
	var walk func(n *yaml.Node, secret bool)
	walk = func(n *yaml.Node, secret bool) {
		switch n.Kind {
		case yaml.ScalarNode:
			if secret {
				out = append(out, n.Value)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], secret || secretKey.MatchString(n.Content[i].Value))
			}
		case yaml.SequenceNode, yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, secret)
			}
		}
	}
	walk(n, false)
	return out
}

// parse is Parse; on failure it returns the config as far as it got (for
// its secrets), or nil.
func parse(name string, data []byte, getenv func(string) string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err, nil)
	}
	c := &Config{name: name, lines: map[string]int{}}
	if root.Kind == 0 { // an empty file
		return c, nil
	}
	if err := checkAliases(name, &root, MaxExpandedNodes); err != nil {
		return nil, err
	}
	var errs []error
	expand(&root, getenv, func(line int, err error) {
		errs = append(errs, &ConfigError{File: name, Line: line, Err: err})
	})
	c.secrets = collectSecrets(&root)
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	lines := map[string]int{}
	record := func(line int, key string, err error) {
		if err == nil {
			lines[key] = line
			return
		}
		errs = append(errs, &ConfigError{File: name, Line: line, Key: key, Err: err})
	}
	// The top level's keys are the Config's sections; any other key is an
	// adapter's section, for a factory of the Registry to decode.
	var sections map[string]*AdapterSection
	if doc.Kind == yaml.MappingNode {
		fields := yamlFields(reflect.TypeFor[Config]())
		known := &yaml.Node{Kind: yaml.MappingNode, Tag: doc.Tag, Line: doc.Line, Column: doc.Column}
		for i := 0; i+1 < len(doc.Content); i += 2 {
			k, v := doc.Content[i], doc.Content[i+1]
			if ft, ok := fields[k.Value]; ok {
				record(k.Line, k.Value, nil)
				checkKeys(v, ft, k.Value, record)
				known.Content = append(known.Content, k, v)
				continue
			}
			if sections == nil {
				sections = map[string]*AdapterSection{}
			}
			record(k.Line, k.Value, nil)
			sec, err := parseSection(name, k.Value, v, record)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sections[k.Value] = sec
		}
		doc = known
	} else {
		checkKeys(doc, reflect.TypeFor[Config](), "", record)
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if err := doc.Decode(c); err != nil {
		return c, yamlError(name, err, keysByLine(doc, ""))
	}

	c.name, c.lines, c.Adapters = name, lines, sections
	return c, nil
}

// parseSection takes an adapter's section apart: the server's keys (kind,
// enabled, scopes, timers) and the rest, which the adapter's factory decodes.
func parseSection(file, name string, n *yaml.Node, record func(int, string, error)) (*AdapterSection, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	sec := &AdapterSection{Kind: name, node: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}}
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return sec, nil // "name:" alone: an adapter with its defaults
	case n.Kind != yaml.MappingNode:
		return nil, &ConfigError{File: file, Line: n.Line, Key: name,
			Err: fmt.Errorf("%w %q: a section is a map of settings, and an adapter's section is named by a registered adapter kind", ErrUnknownKey, name)}
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := name + "." + k.Value
		var err error
		switch k.Value {
		case "kind":
			record(k.Line, key, nil)
			if err = decodeNode(file, key, v, &sec.Kind); err == nil && sec.Kind == "" {
				err = &ConfigError{File: file, Line: k.Line, Key: key, Err: errors.New("kind is empty: name a registered adapter kind")}
			}
		case "enabled":
			record(k.Line, key, nil)
			err = decodeBool(file, key, v, &sec.Enabled)
		case "scopes":
			record(k.Line, key, nil)
			err = decodeNode(file, key, v, &sec.Scopes)
		case "timers":
			record(k.Line, key, nil)
			err = decodeTimers(file, key, v, &sec.Timers)
		default:
			record(k.Line, key, nil) // for errors about the setting found later
			sec.node.Content = append(sec.node.Content, k, v)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sec, nil
}

// decodeTimers decodes a timers section, or true or false for a section
// with the defaults, or none.
func decodeTimers(file, key string, n *yaml.Node, p **TimersConfig) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		var on *bool
		if err := decodeBool(file, key, n, &on); err != nil {
			return err
		}
		*p = &TimersConfig{Enabled: on}
		return nil
	}
	*p = new(TimersConfig)
	return decodeNode(file, key, n, *p)
}

// decodeBool decodes a switch that takes true or false and nothing else:
// YAML reads null, ~ and an empty value as "no value", which a *bool takes
// as unset, so that "enabled: ${X}" with X=null would turn the default
// (on) on rather than fail.
func decodeBool(file, key string, n *yaml.Node, p **bool) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		shown := n.Value
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			shown = "null"
		}
		return &ConfigError{File: file, Line: n.Line, Key: key, Err: fmt.Errorf("%s takes true or false, got %q", key, shown)}
	}
	return decodeNode(file, key, n, p)
}

// decode decodes the adapter's own settings into v, for its factory.
func (sec *AdapterSection) decode(file, name string, v any) error {
	if sec.node == nil {
		return nil
	}
	return decodeNode(file, name, sec.node, v)
}

func (c *Config) file() string { return c.name }

// errorAt attaches the file and the line of section to err.
func (c *Config) errorAt(section string, err error) error {
	if _, ok := errors.AsType[*ConfigError](err); ok {
		return err // it knows its line already
	}
	return &ConfigError{File: c.file(), Line: c.lines[section], Key: section, Err: err}
}

// fieldErrors splits err, joined errors of the form "pkg: field must...",
// into one ConfigError per field under section, each at the field's line
// when the file has it, else at the section's.
func (c *Config) fieldErrors(section string, err error) []error {
	if err == nil {
		return nil
	}
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	} else {
		parts = []error{err}
	}
	var out []error
	for _, e := range parts {
		msg := e.Error()
		if pkg, rest, ok := strings.Cut(msg, ": "); ok && !strings.Contains(pkg, " ") {
			msg = rest // the package's own prefix ("scope: ")
		}
		key := section
		if field, rest, ok := strings.Cut(msg, " "); ok && c.lines[join(section, field)] > 0 {
			key, msg = join(section, field), rest
		} else if ok && field != "" && !strings.ContainsAny(field, ":.") {
			key, msg = join(section, field), rest
		}
		line := c.lines[key]
		if line == 0 {
			line = c.lines[section]
		}
		out = append(out, &ConfigError{File: c.file(), Line: line, Key: key, Err: &fieldError{msg: msg, err: e}})
	}
	return out
}

// fieldError is one field's error with the field's name taken off, for a
// ConfigError that names it as its key.
type fieldError struct {
	msg string
	err error
}

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return e.err }

// MaxExpandedNodes bounds how many YAML nodes a config file may stand for
// once its aliases are expanded. A real config is a few hundred nodes;
// nested aliases ("billion laughs": an anchor of nine aliases of an anchor
// of nine aliases...) make a few hundred bytes stand for billions, and
// every step that walks the expanded tree would take as long and as much
// memory as the expansion.
const MaxExpandedNodes = 100_000

// ErrAliasBomb is wrapped by the error for a file whose aliases expand
// past MaxExpandedNodes.
var ErrAliasBomb = errors.New("aliases expand too far")

// checkAliases measures the tree under root with its aliases expanded,
// without expanding them: each node's expanded size is computed once and
// reused wherever an alias names it, so the measure takes time linear in
// the file. It fails at the first alias that takes the total past limit,
// naming its line.
func checkAliases(file string, root *yaml.Node, limit int) error {
	sizes := map[*yaml.Node]int{}
	total := 0
	var bomb *yaml.Node
	var size func(n *yaml.Node, depth int) int
	size = func(n *yaml.Node, depth int) int {
		if bomb != nil {
			return 0
		}
		if s, ok := sizes[n]; ok {
			return s
		}
		if depth > 10_000 { // only an alias cycle nests this deep
			bomb = n
			return 0
		}
		s := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			s += size(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			s += size(c, depth+1)
			if s > limit && bomb == nil {
				bomb = c
			}
		}
		sizes[n] = s
		return s
	}
	// Walk the document itself node by node, so that the error names the
	// alias that crossed the limit rather than the root.
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if bomb != nil {
			return
		}
		if n.Kind == yaml.AliasNode {
			total += size(n, 0)
			if total > limit && bomb == nil {
				bomb = n
			}
			return
		}
		total++
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	if bomb == nil {
		return nil
	}
	alias := ""
	if bomb.Kind == yaml.AliasNode {
		alias = " (at *" + bomb.Value + ")"
	}
	return &ConfigError{File: file, Line: bomb.Line, Err: fmt.Errorf(
		"%w: the file's aliases stand for more than %d values%s; nest aliases less deeply, or write the values out",
		ErrAliasBomb, limit, alias)}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expand replaces ${VAR} and ${VAR:-default} in every scalar value, after
// parsing, so that a value from the environment can never change the
// file's structure.
func expand(n *yaml.Node, getenv func(string) string, fail func(int, error)) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if v := getenv(m[1]); v != "" {
				return v
			}
			if m[2] != "" {
				return m[3]
			}
			fail(n.Line, fmt.Errorf("${%s} is not set (set it, or write ${%s:-default})", m[1], m[1]))
			return ""
		})
		if n.Style == 0 {
			// An unquoted ${VAR} takes the type its value has ("true",
			// "30"); a quoted one stays a string.
			n.Tag = ""
		}
		return
	}
	for _, c := range n.Content {
		expand(c, getenv, fail)
	}
}

// checkKeys reports mapping keys that t has no field for, recursing into
// struct fields, maps, slices and pointers, and calls fail with a nil error
// for every key it knows, so that later errors can name its line. Types
// that decode themselves (yaml.Unmarshaler) check their own keys.
func checkKeys(n *yaml.Node, t reflect.Type, path string, fail func(int, string, error)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[yaml.Node]() || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return // decoded later by its owner, or by itself
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || t.PkgPath() == "time" {
			return // a type mismatch: Decode reports it with its line
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				fail(k.Line, key, fmt.Errorf("%w %q%s", ErrUnknownKey, k.Value, suggest(k.Value, fields)))
				continue
			}
			fail(k.Line, key, nil)
			checkKeys(v, ft, key, fail)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := join(path, n.Content[i].Value)
			fail(n.Content[i].Line, key, nil)
			checkKeys(n.Content[i+1], t.Elem(), key, fail)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			key := fmt.Sprintf("%s[%d]", path, i)
			fail(c.Line, key, nil)
			checkKeys(c, t.Elem(), key, fail)
		}
	}
}

// yamlFields maps the YAML keys of struct t, inline fields included, to
// their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest names the field of fields closest to key, if it is a near miss.
func suggest(key string, fields map[string]reflect.Type) string {
	return didYouMean(key, slices.Collect(maps.Keys(fields)))
}

func normKey(s string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
}

// didYouMean names the one of known closest to name, if it is a near miss:
// the same but for case and separators, or at most two letters off. name
// itself is no suggestion: an adapter kind with no section is "known" but
// not served.
func didYouMean(name string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if k == name {
			continue
		}
		d := distance(normKey(name), normKey(k))
		if d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Damerau-Levenshtein distance of a and b (adjacent
// swaps count one: "telegarm" is one off "telegram").
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// typeMismatch matches the YAML library's message about a value of the
// wrong type: its tag, its text and the Go type it did not fit.
var typeMismatch = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")

// lineValue is a value of the file: its dotted key, YAML tag and text.
type lineValue struct{ key, tag, text string }

// keysByLine maps each line to the values under n that start on it, with
// their dotted keys (under prefix), so that the YAML library's errors,
// which know only the line, can name the key: on a line of several values
// (a flow map), the one whose tag and text the error quotes.
func keysByLine(n *yaml.Node, prefix string) map[int][]lineValue {
	out := map[int][]lineValue{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				key := join(path, k.Value)
				out[v.Line] = append(out[v.Line], lineValue{key, v.ShortTag(), v.Value})
				walk(v, key)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				key := fmt.Sprintf("%s[%d]", path, i)
				out[c.Line] = append(out[c.Line], lineValue{key, c.ShortTag(), c.Value})
				walk(c, key)
			}
		}
	}
	if n.Kind != yaml.DocumentNode && prefix != "" {
		out[n.Line] = append(out[n.Line], lineValue{prefix, n.ShortTag(), n.Value})
	}
	walk(n, prefix)
	return out
}

// keyFor names the key an error on line is about: the value there whose
// tag and text msg quotes, else the line's first value.
func keyFor(values []lineValue, msg string) string {
	if len(values) == 0 {
		return ""
	}
	if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		for _, v := range values {
			if v.tag == "!!"+m[1] && (m[2] == "" || v.text == m[2]) {
				return v.key
			}
		}
	}
	return values[0].key
}

// typeWords says in words what a value of the Go type named t looks like.
func typeWords(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case t == "time.Duration":
		return "a duration such as 10s, 1m30s or 2h"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a map"
	default:
		return "a map of settings"
	}
}

// typeMessage rewrites the YAML library's "cannot unmarshal !!int `10`
// into time.Duration" as what an operator can act on: what the key wants,
// what it got and, for a duration without a unit, the fix.
func typeMessage(msg string) string {
	m := typeMismatch.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	tag, val, into := m[1], m[2], m[3]
	got := fmt.Sprintf("%q", val)
	switch tag {
	case "seq":
		got = "a list"
	case "map":
		got = "a map"
	}
	out := fmt.Sprintf("want %s, got %s", typeWords(into), got)
	if strings.TrimLeft(into, "*") == "time.Duration" && (tag == "int" || tag == "float") {
		out += fmt.Sprintf(": add a unit, e.g. %ss", val)
	}
	return out
}

// yamlError turns the YAML library's errors into ConfigErrors with lines
// and, where keys (the dotted key of each line) knows it, the key.
func yamlError(name string, err error, keys map[int][]lineValue) error {
	var msgs []string
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs []error
	for _, m := range msgs {
		ce := &ConfigError{File: name, Err: errors.New(m)}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			ce.Line, _ = strconv.Atoi(sub[1])
			ce.Key = keyFor(keys[ce.Line], sub[2])
			ce.Err = errors.New(typeMessage(sub[2]))
		}
		errs = append(errs, ce)
	}
	return errors.Join(errs...)
}

// decodeNode decodes n into v strictly, as Parse decodes the file: a key
// that v has no field for, or a value of the wrong type, is an error
// naming the file, the line and the key under key.
func decodeNode(file, key string, n *yaml.Node, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return fmt.Errorf("%s: Decode needs a pointer, got %T", key, v)
	}
	var errs []error
	checkKeys(n, t, key, func(line int, k string, err error) {
		if err != nil {
			errs = append(errs, &ConfigError{File: file, Line: line, Key: k, Err: err})
		}
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := n.Decode(v); err != nil {
		return yamlError(file, err, keysByLine(n, key))
	}
	return nil
}
