package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable that Load reads.
const EnvPrefix = "HOTLINE_"

// EnvConfigFile is the environment variable that names the configuration file. Load
// does not read it (the caller passes the path) and does not treat it as a key.
const EnvConfigFile = "HOTLINE_CONFIG"

// maxSecretFile bounds a secret file: it holds one token or password.
const maxSecretFile = 64 << 10

// Load returns Default(), overridden by the YAML file at path (when path is not
// empty; a missing file is then an error), overridden by the HOTLINE_ variables of
// environ ("KEY=value" strings, as os.Environ returns them). It then reads the
// secrets of the _file keys.
//
// Every problem is reported at once, each naming the key, where it was set, and
// what was expected: unknown keys (with the closest known key), values of the wrong
// type, keys set twice, unreadable secret files. Load does not call Validate.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	d := &decoder{budget: maxNodes, active: map[*yaml.Node]bool{}}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config file: %w", err)
		}
		d.file(&cfg, path, data)
	}
	d.environment(&cfg, environ)
	if len(d.errs) == 0 {
		d.secrets(&cfg)
	}
	if len(d.errs) > 0 {
		return Config{}, errors.Join(d.errs...)
	}
	cfg.normalize()
	return cfg, nil
}

// normalize tidies values that have one obvious spelling.
func (c *Config) normalize() {
	c.PublicURLSetting = strings.TrimRight(c.PublicURLSetting, "/")
	c.Twilio.APIURL = strings.TrimRight(c.Twilio.APIURL, "/")
	c.DefaultRegion = strings.ToUpper(c.DefaultRegion)
	c.SMS.Provider = strings.ToLower(c.SMS.Provider)
	c.Log.Level = strings.ToLower(c.Log.Level)
	c.Log.Format = strings.ToLower(c.Log.Format)
}

// maxNodes bounds the YAML nodes one Load visits: aliases can make a small document
// expand into a huge one.
const maxNodes = 100_000

// decoder applies YAML nodes to a Config by reflection, following the yaml struct
// tags, so that each problem names its key and where it was set.
type decoder struct {
	errs   []error
	budget int                 // nodes left to visit
	active map[*yaml.Node]bool // anchors being expanded, to stop an alias that contains itself
	root   reflect.Value       // the Config, for suggestions
}

// origin is where a value was set: a line of the config file or an environment
// variable.
type origin struct {
	file string
	env  string
}

func (o origin) at(n *yaml.Node) string {
	if o.env != "" {
		return o.env
	}
	if n != nil && n.Line > 0 {
		return fmt.Sprintf("%s:%d", o.file, n.Line)
	}
	return o.file
}

func (d *decoder) fail(o origin, n *yaml.Node, path []string, format string, args ...any) {
	d.errs = append(d.errs, &Error{Source: o.at(n), Key: keyString(path), Msg: fmt.Sprintf(format, args...)})
}

// file decodes the YAML document data, read from the file named name, into cfg.
func (d *decoder) file(cfg *Config, name string, data []byte) {
	o := origin{file: name}
	d.root = reflect.ValueOf(cfg).Elem()
	docs, err := parseYAML(data)
	if err != nil {
		d.errs = append(d.errs, &Error{Source: name, Msg: err.Error()})
		return
	}
	switch len(docs) {
	case 0:
		return // an empty file, or only comments
	case 1:
	default:
		d.errs = append(d.errs, &Error{Source: o.at(docs[1]), Msg: "the file holds more than one YAML document; remove the --- line and merge them"})
		return
	}
	doc := docs[0]
	if n := resolve(doc); n.Kind != yaml.MappingNode && !isNull(n) {
		d.errs = append(d.errs, &Error{Source: o.at(n), Msg: fmt.Sprintf("the file holds %s; it must be a mapping of keys, like config.example.yaml", describe(n))})
		return
	}
	d.decode(doc, d.root, nil, o)
}

// parseYAML parses every document of data. A panic of the parser on hostile input
// becomes an error.
func parseYAML(data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, fmt.Errorf("invalid YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err == io.EOF {
			return docs, nil
		} else if err != nil {
			return nil, fmt.Errorf("invalid YAML: %w", err)
		}
		docs = append(docs, &n)
	}
}

// resolve returns the node a document or alias node stands for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n != nil; i++ {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			n = n.Alias
		default:
			return n
		}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.DocumentNode && len(n.Content) == 0) ||
		(n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node holds, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	shorthand    = reflect.TypeFor[interface{ fromScalar(string) }]()
)

// decode sets v from n. path is v's key.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path []string, o origin) {
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.fail(o, n, path, "the document is too large once its aliases are expanded")
		}
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			d.decode(n.Content[0], v, path, o)
		}
		return
	case yaml.AliasNode:
		if n.Alias == nil || d.active[n.Alias] {
			d.fail(o, n, path, "the alias *%s refers to the value that holds it", n.Value)
			return
		}
		d.active[n.Alias] = true
		d.decode(n.Alias, v, path, o)
		delete(d.active, n.Alias)
		return
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) && reflect.PointerTo(v.Type()).Implements(shorthand) {
		v.Addr().Interface().(interface{ fromScalar(string) }).fromScalar(n.Value)
		return
	}
	if v.Type() == durationType {
		d.duration(n, v, path, o)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path, o)
	case reflect.Map:
		d.mapping(n, v, path, o)
	case reflect.Slice:
		d.sequence(n, v, path, o)
	case reflect.String:
		switch {
		case isNull(n):
			v.SetString("")
		case n.Kind != yaml.ScalarNode:
			d.fail(o, n, path, "is %s; expected a text value", describe(n))
		default:
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if d.scalar(n, path, o, "true or false") {
			switch strings.ToLower(n.Value) {
			case "true", "yes", "on", "1":
				v.SetBool(true)
			case "false", "no", "off", "0":
				v.SetBool(false)
			default:
				d.fail(o, n, path, "%q is not true or false", n.Value)
			}
		}
	case reflect.Int, reflect.Int64:
		if d.scalar(n, path, o, "a whole number") {
			i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 10, 64)
			if err != nil || v.OverflowInt(i) {
				d.fail(o, n, path, "%q is not a whole number", n.Value)
				return
			}
			v.SetInt(i)
		}
	default: // a field of a type this file does not know: a bug, reported rather than a panic
		d.fail(o, n, path, "cannot be decoded into %s", v.Type())
	}
}

// scalar reports whether n is a non-null scalar, and records why when it is not.
// what is what the key expects.
func (d *decoder) scalar(n *yaml.Node, path []string, o origin, what string) bool {
	switch {
	case isNull(n):
		d.fail(o, n, path, "has no value; write %s, or remove the key to keep the default", what)
		return false
	case n.Kind != yaml.ScalarNode:
		d.fail(o, n, path, "is %s; expected %s", describe(n), what)
		return false
	}
	return true
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path []string, o origin) {
	const what = "a duration like 30m or 24h"
	if !d.scalar(n, path, o, what) {
		return
	}
	t, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(o, n, path, "%q is not a duration; write it like 30m or 24h", n.Value)
		return
	}
	v.SetInt(int64(t))
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path []string, o origin) {
	if isNull(n) {
		return // "twilio:" with every key under it commented out
	}
	if n.Kind != yaml.MappingNode {
		d.fail(o, n, path, "is %s; expected a section with the keys %s", describe(n), strings.Join(fieldNames(v.Type()), ", "))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path, o, seen)
		if !ok {
			continue
		}
		f, ok := fieldIndex(v.Type(), name)
		if !ok {
			d.unknown(o, k, path, name, fieldNames(v.Type()))
			continue
		}
		d.decode(val, v.Field(f), sub(path, name), o)
	}
}

// key returns the name of the mapping key k, recording a problem when it is not a
// name or repeats one in seen.
func (d *decoder) key(k *yaml.Node, path []string, o origin, seen map[string]int) (string, bool) {
	if k.Kind != yaml.ScalarNode || isNull(k) {
		d.fail(o, k, path, "has a key that is %s; keys are names", describe(k))
		return "", false
	}
	if line, dup := seen[k.Value]; dup {
		d.fail(o, k, sub(path, k.Value), "is set twice (lines %d and %d); keep one", line, k.Line)
		return "", false
	}
	seen[k.Value] = k.Line
	return k.Value, true
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path []string, o origin) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(o, n, path, "is %s; expected a section keyed by language, like {en: ..., es: ...}", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path, o, seen)
		if !ok {
			continue
		}
		key := reflect.ValueOf(name)
		if isNull(val) {
			v.SetMapIndex(key, reflect.Value{}) // "es: null" removes the default es entry
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(key); old.IsValid() {
			elem.Set(old) // a section overrides only the keys it sets
		}
		d.decode(val, elem, sub(path, name), o)
		v.SetMapIndex(key, elem)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path []string, o origin) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(o, n, path, "is %s; expected a list, like [a, b]", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), sub(path, "["+strconv.Itoa(i)+"]"), o)
	}
	v.Set(s)
}

// environment applies the HOTLINE_ variables of environ to cfg, shallow keys first
// so that HOTLINE_TWILIO__FROM overrides a "from" in HOTLINE_TWILIO.
func (d *decoder) environment(cfg *Config, environ []string) {
	d.root = reflect.ValueOf(cfg).Elem()
	type envVar struct {
		name, value string
		segs        []string
	}
	var vars []envVar
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || name == EnvConfigFile {
			continue
		}
		vars = append(vars, envVar{name, value, strings.Split(strings.ToLower(name[len(EnvPrefix):]), "__")})
	}
	sort.SliceStable(vars, func(i, j int) bool {
		if len(vars[i].segs) != len(vars[j].segs) {
			return len(vars[i].segs) < len(vars[j].segs)
		}
		return vars[i].name < vars[j].name
	})
	for _, e := range vars {
		d.setPath(d.root, e.segs, nil, origin{env: e.name}, e.value)
	}
}

// setPath walks from v down the key segments segs and decodes the environment
// value raw there.
func (d *decoder) setPath(v reflect.Value, segs, path []string, o origin, raw string) {
	if len(segs) == 0 {
		d.envValue(v, path, o, raw)
		return
	}
	seg := segs[0]
	switch {
	case seg == "":
		d.errs = append(d.errs, &Error{Source: o.env, Key: keyString(path),
			Msg: fmt.Sprintf("the variable name has an empty key; separate levels with exactly two underscores, like %sTWILIO__AUTH_TOKEN", EnvPrefix)})
	case v.Kind() == reflect.Struct:
		f, ok := fieldIndex(v.Type(), seg)
		if !ok {
			d.unknown(o, nil, path, seg, fieldNames(v.Type()))
			return
		}
		d.setPath(v.Field(f), segs[1:], sub(path, seg), o, raw)
	case v.Kind() == reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		key := reflect.ValueOf(seg)
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(key); old.IsValid() {
			elem.Set(old)
		}
		d.setPath(elem, segs[1:], sub(path, seg), o, raw)
		v.SetMapIndex(key, elem)
	case v.Kind() == reflect.Slice:
		d.errs = append(d.errs, &Error{Source: o.env, Key: keyString(sub(path, seg)),
			Msg: fmt.Sprintf("unknown key: %s is a list, set it whole, like %s='[a, b]'", keyString(path), envName(path))})
	default:
		d.errs = append(d.errs, &Error{Source: o.env, Key: keyString(sub(path, seg)),
			Msg: fmt.Sprintf("unknown key: %s is a single value, set it as %s", keyString(path), envName(path))})
	}
}

// envValue decodes the environment value raw into v: as it is for text, as YAML
// (a scalar or a flow list or section) for anything else.
func (d *decoder) envValue(v reflect.Value, path []string, o origin, raw string) {
	if v.Kind() == reflect.String {
		v.SetString(raw) // a password may hold any character YAML cares about
		return
	}
	if strings.TrimSpace(raw) == "" {
		d.errs = append(d.errs, &Error{Source: o.env, Key: keyString(path), Msg: "is empty; set a value or unset the variable to keep the default"})
		return
	}
	docs, err := parseYAML([]byte(raw))
	if err != nil || len(docs) != 1 {
		if err == nil {
			err = errors.New("more than one YAML document")
		}
		d.errs = append(d.errs, &Error{Source: o.env, Key: keyString(path), Msg: fmt.Sprintf("cannot parse the value: %v", err)})
		return
	}
	d.decode(docs[0], v, path, o)
}

// secrets fills each secret from its _file key.
func (d *decoder) secrets(cfg *Config) {
	for _, s := range []struct {
		key    string
		secret *string
		file   string
	}{
		{"twilio.auth_token", &cfg.Twilio.AuthToken, cfg.Twilio.AuthTokenFile},
		{"twilio.secondary_auth_token", &cfg.Twilio.SecondaryAuthToken, cfg.Twilio.SecondaryAuthTokenFile},
		{"admin.password", &cfg.Admin.Password, cfg.Admin.PasswordFile},
		{"crypto.master_key", &cfg.Crypto.MasterKey, cfg.Crypto.MasterKeyFile},
	} {
		if s.file == "" {
			continue
		}
		fileKey := s.key + "_file"
		if *s.secret != "" {
			d.errs = append(d.errs, &Error{Key: fileKey, Msg: fmt.Sprintf("both %s and %s are set; keep one", s.key, fileKey)})
			continue
		}
		read := readSecret
		if s.secret == &cfg.Crypto.MasterKey {
			read = readMasterKeyFile // raw bytes, kept as they are
		}
		secret, err := read(s.file)
		if err != nil {
			d.errs = append(d.errs, &Error{Key: fileKey, Msg: err.Error()})
			continue
		}
		*s.secret = secret
	}
}

// readSecret returns the content of the file at path without its trailing newline.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the secret: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot read the secret from %s: %w", path, err)
	case len(data) > maxSecretFile:
		return "", fmt.Errorf("%s is larger than %d KiB; it must hold only the secret", path, maxSecretFile>>10)
	}
	secret := strings.TrimRight(string(data), "\r\n")
	if secret == "" {
		return "", fmt.Errorf("%s is empty; write the secret in it", path)
	}
	return secret, nil
}

// unknown records an unknown key name under path, suggesting the closest known key.
// siblings are the known names at that level.
func (d *decoder) unknown(o origin, n *yaml.Node, path []string, name string, siblings []string) {
	full := sub(path, name)
	msg := "unknown key"
	if s := d.suggest(path, name, siblings); s != nil {
		if o.env != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", envName(s))
		} else {
			msg += fmt.Sprintf(" (did you mean %s?)", keyString(s))
		}
	} else if len(path) > 0 {
		msg += fmt.Sprintf("; %s has %s", keyString(path), strings.Join(siblings, ", "))
	} else {
		msg += "; config.example.yaml lists every key"
	}
	d.errs = append(d.errs, &Error{Source: o.at(n), Key: keyString(full), Msg: msg})
}

// suggest returns the known key closest to the unknown name under path: a sibling
// spelt nearly the same, a key that differs only in separators (HOTLINE_TWILIO_AUTH_TOKEN
// for twilio.auth_token), or the one key elsewhere with that name (auth_token at the
// top level for twilio.auth_token). It returns nil when nothing is close.
func (d *decoder) suggest(path []string, name string, siblings []string) []string {
	best, bestDist := "", maxDistance(name)+1
	for _, s := range siblings {
		if dist := levenshtein(name, s); dist < bestDist {
			best, bestDist = s, dist
		}
	}
	if best != "" {
		return sub(path, best)
	}
	var all [][]string
	knownKeys(d.root, nil, &all)
	squash := func(p []string) string { return strings.NewReplacer("_", "", ".", "").Replace(strings.Join(p, "")) }
	want := squash(sub(path, name))
	var sameName [][]string
	for _, k := range all {
		if squash(k) == want {
			return k
		}
		if k[len(k)-1] == name {
			sameName = append(sameName, k)
		}
	}
	if len(sameName) == 1 {
		return sameName[0]
	}
	return nil
}

// knownKeys appends to keys the path of every key under v: struct fields, and the
// entries of maps as they are now.
func knownKeys(v reflect.Value, path []string, keys *[][]string) {
	if !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == durationType {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			name := tagName(v.Type().Field(i))
			*keys = append(*keys, sub(path, name))
			knownKeys(v.Field(i), sub(path, name), keys)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			*keys = append(*keys, sub(path, k.String()))
			knownKeys(v.MapIndex(k), sub(path, k.String()), keys)
		}
	}
}

func maxDistance(name string) int {
	return max(1, min(3, len(name)/3))
}

// levenshtein returns the edit distance between a and b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// tagName returns the YAML name of a struct field.
func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// fieldIndex returns the index of the field of struct type t named name in YAML.
func fieldIndex(t reflect.Type, name string) (int, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tagName(t.Field(i)) == name {
			return i, true
		}
	}
	return 0, false
}

// fieldNames returns the YAML names of the fields of struct type t.
func fieldNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = tagName(t.Field(i))
	}
	return names
}

// sub returns path with name appended, sharing nothing with path.
func sub(path []string, name string) []string {
	return append(path[:len(path):len(path)], name)
}

// keyString writes a key path as in the documentation: conversation.keywords[0].word.
func keyString(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// envName returns the environment variable that sets the key path.
func envName(path []string) string {
	return EnvPrefix + strings.ToUpper(strings.Join(path, "__"))
}
