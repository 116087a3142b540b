package standin

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Options configure a stand-in server. The zero value is usable: database
// "openspp", user "admin" with password "admin", a res.partner field
// x_datacollect_guid, no seed data, the real clock, data in memory only.
type Options struct {
	// DB is the database name callers must pass (default "openspp").
	DB string
	// Login and Password are the read-write user's credentials (default
	// "admin"/"admin"); its uid is AdminUID.
	Login, Password string
	// ReadOnlyLogin and ReadOnlyPassword, if set, add a user (uid
	// ReadOnlyUID) who may read but whose create, write and unlink fail with
	// odoo.exceptions.AccessError.
	ReadOnlyLogin, ReadOnlyPassword string
	// CustomFields are extra char fields of res.partner. Nil means
	// []string{"x_datacollect_guid"}; an empty non-nil slice means none.
	CustomFields []string
	// Seed creates the reference data: group kinds Household and Family,
	// membership kind Head (unique), ID types "National ID" (validated by
	// NationalIDPattern when set) and "Passport", genders Male and Female.
	// A server loaded from an existing DataFile is never seeded again.
	Seed bool
	// NationalIDPattern is the validation regex of the seeded "National ID"
	// type ("" means none).
	NationalIDPattern string
	// Now is the clock stamping create_date and write_date (default
	// time.Now); see also Freeze and Advance.
	Now func() time.Time
	// DataFile, if set, persists the data as JSON: loaded by Open, saved
	// atomically (temporary file + rename) after each call that changed data.
	DataFile string
	// RandSeed seeds the generator deciding which calls a fault with a Rate
	// hits, so failure patterns are reproducible (default 1).
	RandSeed uint64
	// Logger, if set, receives one line per call.
	Logger *slog.Logger
}

// Fixed user ids, as in a fresh Odoo database (admin is uid 2).
const (
	AdminUID    = 2
	ReadOnlyUID = 3
)

// Server is an in-memory OpenSPP 17 speaking Odoo JSON-RPC at POST /jsonrpc.
// It is an http.Handler and safe for concurrent use.
type Server struct {
	opts Options

	mu     sync.Mutex // guards e, clock
	e      *engine
	frozen *time.Time

	fmu     sync.Mutex // guards faults, rng, latency, calls
	faults  []*fault
	rng     *rand.Rand
	latency time.Duration
	calls   []Call

	url string // set by Start
}

// New returns a server for opts; it panics if opts are invalid or the
// DataFile cannot be loaded (use Open to get the error instead).
func New(opts Options) *Server {
	s, err := Open(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Open returns a server for opts, loading opts.DataFile if it exists.
func Open(opts Options) (*Server, error) {
	if opts.DB == "" {
		opts.DB = "openspp"
	}
	if opts.Login == "" {
		opts.Login = "admin"
	}
	if opts.Password == "" {
		opts.Password = "admin"
	}
	if opts.CustomFields == nil {
		opts.CustomFields = []string{DefaultCustomField}
	}
	if opts.RandSeed == 0 {
		opts.RandSeed = 1
	}
	models, err := newSchema(opts.CustomFields)
	if err != nil {
		return nil, fmt.Errorf("standin: %w", err)
	}
	s := &Server{opts: opts, rng: rand.New(rand.NewPCG(opts.RandSeed, 0x0d00))}
	s.e = newEngine(models, s.clock)
	loaded := false
	if opts.DataFile != "" {
		loaded, err = s.load()
		if err != nil {
			return nil, fmt.Errorf("standin: load %s: %w", opts.DataFile, err)
		}
	}
	if !loaded {
		if err := s.seed(); err != nil {
			return nil, fmt.Errorf("standin: seed: %w", err)
		}
		if err := s.save(); err != nil {
			return nil, fmt.Errorf("standin: save %s: %w", opts.DataFile, err)
		}
	}
	return s, nil
}

// seed creates the users and, with Options.Seed, the reference data.
func (s *Server) seed() error {
	t := s.e.begin(AdminUID)
	if err := s.seedWith(t); err != nil {
		t.rollback()
		return err
	}
	return nil
}

func (s *Server) seedWith(t *tx) error {
	var first *Error
	c := func(model string, vals map[string]any) {
		if first != nil {
			return
		}
		if _, err := t.create(s.e.models[model], vals); err != nil {
			first = err
		}
	}
	c(users, map[string]any{"name": "Administrator", "login": s.opts.Login})
	if s.opts.ReadOnlyLogin != "" {
		c(users, map[string]any{"name": "Read-only User", "login": s.opts.ReadOnlyLogin})
	}
	if s.opts.Seed {
		c(GroupKind, map[string]any{"name": "Household"})
		c(GroupKind, map[string]any{"name": "Family"})
		c(MembershipKind, map[string]any{"name": "Head", "is_unique": true})
		c(MembershipKind, map[string]any{"name": "Spouse"})
		c(IDType, map[string]any{"name": "National ID", "id_validation": s.opts.NationalIDPattern})
		c(IDType, map[string]any{"name": "Passport"})
		c(GenderType, map[string]any{"code": "M", "value": "Male"})
		c(GenderType, map[string]any{"code": "F", "value": "Female"})
	}
	if first != nil {
		return first
	}
	return nil
}

// Start serves s on a new httptest server closed at the end of the test,
// and records its URL (see URL).
func Start(t TB, opts Options) *Server {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("standin: %v", err)
	}
	hs := newTestHTTPServer(s)
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

// TB is the part of testing.TB that Start uses.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// URL is the base URL given by Start (post JSON-RPC to URL()+"/jsonrpc").
func (s *Server) URL() string { return s.url }

// DB, Login and Password return the effective credentials.
func (s *Server) DB() string       { return s.opts.DB }
func (s *Server) Login() string    { return s.opts.Login }
func (s *Server) Password() string { return s.opts.Password }
