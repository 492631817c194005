package server

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
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
	if e.Key != "" && !strings.HasPrefix(e.Err.Error(), e.Key) {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
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
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	c := &Config{name: name, lines: map[string]int{}}
	if root.Kind == 0 { // an empty file
		return c, nil
	}
	var errs []error
	expand(&root, getenv, func(line int, err error) {
		errs = append(errs, &ConfigError{File: name, Line: line, Err: err})
	})
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	lines := map[string]int{}
	checkKeys(doc, reflect.TypeFor[Config](), "", func(line int, key string, err error) {
		if err == nil {
			lines[key] = line
			return
		}
		errs = append(errs, &ConfigError{File: name, Line: line, Key: key, Err: err})
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := doc.Decode(c); err != nil {
		return nil, yamlError(name, err)
	}

	c.name, c.lines = name, lines
	return c, nil
}

func (c *Config) file() string { return c.name }

// errorAt attaches the file and the line of section to err.
func (c *Config) errorAt(section string, err error) error {
	if ce, ok := errors.AsType[*ConfigError](err); ok {
		return ce
	}
	return &ConfigError{File: c.file(), Line: c.lines[section], Err: err}
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
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return
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

// suggest names a known key that differs from key by case or separators.
func suggest(key string, fields map[string]reflect.Type) string {
	norm := func(s string) string { return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s)) }
	for k := range fields {
		if norm(k) == norm(key) {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return ""
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the YAML library's errors into ConfigErrors with lines.
func yamlError(name string, err error) error {
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
			ce.Err = errors.New(sub[2])
		}
		errs = append(errs, ce)
	}
	return errors.Join(errs...)
}
