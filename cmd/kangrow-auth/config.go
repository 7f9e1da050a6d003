package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	kenv "github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Config is the provider's configuration: exactly the settings of DESIGN.md's table.
type Config struct {
	DatabaseURL string `koanf:"database_url"`
	Issuer      string `koanf:"issuer"`
	Addr        string `koanf:"addr"`
	AdminAddr   string `koanf:"admin_addr"`
	AdminToken  string `koanf:"admin_token"`
	Secret      string `koanf:"secret"`
	SMTPURL     string `koanf:"smtp_url"`
	LogFormat   string `koanf:"log_format"`

	// Dev is serve's --dev: embedded database, generated secret and admin token, text logs.
	Dev bool `koanf:"-"`

	// origin says where each key's value came from ("--issuer", "KANGROW_ISSUER", "issuer in FILE",
	// "default"), so that an error names the setting the user actually wrote.
	origin map[string]string
}

// A setting is one row of the configuration table, under its three names.
type setting struct {
	key   string // YAML key and koanf path
	env   string
	flag  string
	usage string
}

var settings = []setting{
	{"database_url", "KANGROW_DATABASE_URL", "database-url", "database: postgres://user:pass@host:port/db or sqlite:PATH"},
	{"issuer", "KANGROW_ISSUER", "issuer", "the exact iss and base of every public URL"},
	{"addr", "KANGROW_ADDR", "addr", "public listener, host:port"},
	{"admin_addr", "KANGROW_ADMIN_ADDR", "admin-addr", "admin API listener, host:port"},
	{"admin_token", "KANGROW_ADMIN_TOKEN", "admin-token", "bearer token for the admin API (prefer the environment)"},
	{"secret", "KANGROW_SECRET", "secret", "system secret, at least 32 bytes (prefer the environment)"},
	{"smtp_url", "KANGROW_SMTP_URL", "smtp-url", "smtp://user:pass@host:port for outgoing mail (unset: mails go to the log)"},
	{"log_format", "KANGROW_LOG_FORMAT", "log-format", "json or text"},
}

const (
	configEnv      = "KANGROW_CONFIG"
	devDatabaseURL = "sqlite:./kangrow-dev.db"
	devSecretFile  = "kangrow-dev.secret"
	minSecretLen   = 32
)

func defaults(dev bool) map[string]any {
	d := map[string]any{
		"issuer":     "http://localhost:8080",
		"addr":       ":8080",
		"admin_addr": "127.0.0.1:8081",
		"log_format": "json",
	}
	if dev {
		d["database_url"] = devDatabaseURL
		d["log_format"] = "text"
	}
	return d
}

// globalFlags are the flags every command takes: --config and one flag per setting.
type globalFlags struct {
	set    *pflag.FlagSet
	config string
}

func addGlobalFlags(root *cobra.Command) *globalFlags {
	g := &globalFlags{set: root.PersistentFlags()}
	g.set.StringVar(&g.config, "config", "", "YAML configuration file (or "+configEnv+")")
	for _, s := range settings {
		// The default shown in --help would be wrong for --dev; defaults live in defaults().
		g.set.String(s.flag, "", s.usage+" ["+s.env+"]")
	}
	return g
}

// loadConfig merges default < YAML file < environment < flags. It validates nothing but the file's
// shape; each command then checks the settings it needs (Config.need).
func (a *app) loadConfig(dev bool) (*Config, error) {
	k := koanf.New(".")
	origin := map[string]string{}
	note := func(src *koanf.Koanf, label func(key string) string) error {
		for _, key := range src.Keys() {
			origin[key] = label(key)
		}
		return k.Merge(src)
	}

	def := koanf.New(".")
	for key, v := range defaults(dev) {
		_ = def.Set(key, v)
	}
	if err := note(def, func(string) string { return "default" }); err != nil {
		return nil, err
	}

	path := a.global.config
	if !a.global.set.Changed("config") {
		path = a.getenv(configEnv)
	}
	if path != "" {
		fk, err := loadConfigFile(path)
		if err != nil {
			return nil, err
		}
		if err := note(fk, func(key string) string { return key + " in " + path }); err != nil {
			return nil, err
		}
	}

	byEnv := map[string]string{}
	byFlag := map[string]string{}
	for _, s := range settings {
		byEnv[s.env] = s.key
		byFlag[s.flag] = s.key
	}
	ek := koanf.New(".")
	if err := ek.Load(kenv.Provider("", kenv.Opt{
		// Only our variables, and only through the injected getenv: tests never touch the process's
		// environment. An empty variable counts as unset, as docker compose's ${X:-} produces them.
		EnvironFunc: func() []string {
			var kv []string
			for _, s := range settings {
				if v := a.getenv(s.env); v != "" {
					kv = append(kv, s.env+"="+v)
				}
			}
			return kv
		},
		TransformFunc: func(k, v string) (string, any) { return byEnv[k], v },
	}), nil); err != nil {
		return nil, fmt.Errorf("environment: %w", err)
	}
	if err := note(ek, func(key string) string { return settingFor(key).env }); err != nil {
		return nil, err
	}

	// Flags last, and only those given: posflag without a koanf skips unchanged flags.
	fl := koanf.New(".")
	if err := fl.Load(posflag.ProviderWithFlag(a.global.set, ".", nil, func(f *pflag.Flag) (string, any) {
		return byFlag[f.Name], f.Value.String()
	}), nil); err != nil {
		return nil, fmt.Errorf("flags: %w", err)
	}
	if err := note(fl, func(key string) string { return "--" + settingFor(key).flag }); err != nil {
		return nil, err
	}

	cfg := &Config{Dev: dev, origin: origin}
	if err := k.Unmarshal("", cfg); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// loadConfigFile reads a YAML file of top-level scalar settings. Unknown keys are errors: a typo must
// not silently fall back to a default.
func loadConfigFile(path string) (*koanf.Koanf, error) {
	fk := koanf.New(".")
	if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config file %s: %s", path, pe.Err)
		}
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	known := make([]string, 0, len(settings))
	for _, s := range settings {
		known = append(known, s.key)
	}
	for _, key := range fk.Keys() {
		if !slices.Contains(known, key) {
			return nil, fmt.Errorf("config file %s: unknown setting %q (known: %s)", path, key, strings.Join(known, ", "))
		}
		switch v := fk.Get(key).(type) {
		case nil:
			fk.Delete(key) // "secret:" with no value means unset, not empty
		case string, bool, int, int64, uint64, float64:
		default:
			return nil, fmt.Errorf("config file %s: %s must be a single value, not %T", path, key, v)
		}
	}
	return fk, nil
}

// name is how an error message calls the setting key: by the name the user set it under, or by its
// environment variable when it is unset or defaulted.
func (c *Config) name(key string) string {
	if o, ok := c.origin[key]; ok && o != "default" {
		return o
	}
	return settingFor(key).env
}

// settingFor returns the row of the configuration table for key; keys come from that table.
func settingFor(key string) setting {
	for _, s := range settings {
		if s.key == key {
			return s
		}
	}
	panic("config: unknown setting " + key)
}

// Checks a command can ask for with Config.need.
const (
	needDatabase = "database_url"
	needIssuer   = "issuer"
	needAddr     = "addr"
	needAdmin    = "admin_addr"
	needSecret   = "secret"
	needSMTP     = "smtp_url"
	needLog      = "log_format"
)

// need validates the named settings, in the order given, and returns the first problem as one line that
// names the setting.
func (c *Config) need(keys ...string) error {
	for _, key := range keys {
		var err error
		switch key {
		case needDatabase:
			err = checkDatabaseURL(c.DatabaseURL)
		case needIssuer:
			err = checkIssuer(c.Issuer, c.Dev)
		case needAddr:
			err = checkAddr(c.Addr)
		case needAdmin:
			err = checkAddr(c.AdminAddr)
		case needSecret:
			err = checkSecret(c.Secret)
		case needSMTP:
			err = checkSMTPURL(c.SMTPURL)
		case needLog:
			if c.LogFormat != "json" && c.LogFormat != "text" {
				err = fmt.Errorf("must be json or text, got %q", c.LogFormat)
			}
		default:
			panic("config: unknown check " + key)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.name(key), err)
		}
	}
	return nil
}

func checkDatabaseURL(raw string) error {
	switch {
	case raw == "":
		return errors.New("not set (want postgres://user:pass@host:port/db or sqlite:PATH)")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			// Never echo the URL: it may hold a password.
			return errors.New("malformed postgres URL (want postgres://user:pass@host:port/db)")
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return errors.New("malformed postgres URL: bad port")
			}
		}
		return nil
	case strings.HasPrefix(raw, "sqlite:"):
		if strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//") == "" {
			return errors.New("sqlite: needs a file path, as in sqlite:./kangrow-dev.db")
		}
		return nil
	}
	scheme, _, ok := strings.Cut(raw, ":")
	if !ok || strings.ContainsAny(scheme, "/@ ") {
		return errors.New("malformed (want postgres://user:pass@host:port/db or sqlite:PATH)")
	}
	return fmt.Errorf("unsupported scheme %q (want postgres:// or sqlite:)", scheme)
}

// checkIssuer follows OpenID Connect Discovery 1.0 §3 (issuer: https URL with scheme and host, no query
// or fragment). Plain http is let through for the loopback host, and for anything under --dev.
func checkIssuer(raw string, dev bool) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Errorf("must be an absolute http(s) URL, got %q", raw)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "", u.Opaque != "":
		return fmt.Errorf("must be an absolute http(s) URL, got %q", raw)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("must not have a query, got %q", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("must not have a fragment, got %q", raw)
	case u.User != nil:
		return errors.New("must not contain user information")
	case strings.HasSuffix(u.Path, "/"):
		// Every public URL is the issuer plus a path; a trailing slash would make them "//path".
		return fmt.Errorf("must not end with a slash, got %q", raw)
	case u.Scheme == "http" && !dev && !isLoopbackHost(u.Hostname()):
		return fmt.Errorf("must use https (http only for localhost or 127.0.0.1, or with --dev), got %q", raw)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port (as :8080 or 127.0.0.1:8080), got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	return nil
}

func checkSecret(s string) error {
	switch {
	case s == "":
		return errors.New("not set: it must be at least 32 bytes, e.g. from `openssl rand -base64 32`")
	case len(s) < minSecretLen:
		return fmt.Errorf("must be at least %d bytes, got %d", minSecretLen, len(s))
	}
	return nil
}

func checkSMTPURL(raw string) error {
	if raw == "" {
		return nil // mails go to the log
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		// Never echo the URL: it may hold a password.
		return errors.New("must be smtp://user:pass@host:port (or smtps://)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("must be smtp://user:pass@host:port: bad port")
		}
	}
	return nil
}

// devSecret returns the secret kept beside the dev database, creating it (32 random bytes, base64, mode
// 0600) on first use so that restarts keep cookies and encrypted keys readable.
func devSecret(databaseURL string) (secret, path string, err error) {
	dir := "."
	if p, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok {
		dir = filepath.Dir(strings.TrimPrefix(p, "//"))
	}
	path = filepath.Join(dir, devSecretFile)
	if b, err := os.ReadFile(path); err == nil {
		s := strings.TrimSpace(string(b))
		if err := checkSecret(s); err != nil {
			return "", path, fmt.Errorf("dev secret file %s: %w", path, err)
		}
		return s, path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", path, fmt.Errorf("dev secret file: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", path, fmt.Errorf("dev secret file: %w", err)
	}
	// Write a temporary file, then link it into place: a second process starting at the same moment
	// either wins the link or reads the complete file of the first, never a half-written one.
	tmp, err := os.CreateTemp(dir, devSecretFile+".*") // mode 0600
	if err != nil {
		return "", path, fmt.Errorf("dev secret file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	s := randomString(32, base64.StdEncoding)
	if _, err := tmp.WriteString(s + "\n"); err != nil {
		_ = tmp.Close()
		return "", path, fmt.Errorf("dev secret file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", path, fmt.Errorf("dev secret file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return devSecret(databaseURL) // another process was first: use its secret
	} else if err != nil {
		return "", path, fmt.Errorf("dev secret file: %w", err)
	}
	return s, path, nil
}

// randomString encodes n bytes from crypto/rand.
func randomString(n int, enc *base64.Encoding) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return enc.EncodeToString(b)
}
