// Package chaosproxy is a fault-injecting HTTP reverse proxy for testing the
// sync protocol: it stands between devices and the server and, for the
// requests it is told to disturb (by default every path under /api/), drops
// requests, loses answers the server already produced, answers 500, delivers
// requests twice, truncates bodies and delays, at configured rates and with a
// seeded random source, so that a seed always gives the same sequence of
// decisions. Faults can be switched off and on at run time through the
// proxy's admin endpoint (see Proxy.ServeHTTP).
package chaosproxy

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is one kind of fault.
type Kind string

// The kinds of fault. A request gets at most one.
const (
	// None forwards the request and its answer untouched.
	None Kind = "none"
	// DropRequest never forwards the request; the client's connection is
	// closed without an answer.
	DropRequest Kind = "drop-request"
	// DropResponse forwards the request, lets the server process it, then
	// loses the answer: the client's connection is closed, or (variant) it
	// gets a 502 without the server's body.
	DropResponse Kind = "drop-response"
	// Error500 answers 500 without forwarding the request.
	Error500 Kind = "error-500"
	// Duplicate forwards the request twice (one after the other, or
	// concurrently) and answers the last answer.
	Duplicate Kind = "duplicate"
	// TruncateRequest forwards only part of the request body, then breaks
	// the upstream connection; the client gets a 502.
	TruncateRequest Kind = "truncate-request"
	// TruncateResponse forwards the request and sends the client the
	// answer's headers and only part of its body, then closes the
	// connection.
	TruncateResponse Kind = "truncate-response"
	// Delay waits (up to Config.MaxDelay) before forwarding.
	Delay Kind = "delay"
)

// Kinds lists every fault kind, in the order in which a draw partitions the
// unit interval.
var Kinds = []Kind{DropRequest, DropResponse, Error500, Duplicate, TruncateRequest, TruncateResponse, Delay}

// Rates are the probabilities of each fault kind per disturbed request; their
// sum must be at most 1 (the rest is None).
type Rates map[Kind]float64

// Even spreads total evenly over every kind.
func Even(total float64) Rates {
	r := Rates{}
	for _, k := range Kinds {
		r[k] = total / float64(len(Kinds))
	}
	return r
}

// ParseRates reads "kind=p,kind=p" (kinds as named by Kinds) into rates,
// starting from base (which it does not change).
func ParseRates(base Rates, s string) (Rates, error) {
	r := Rates{}
	for k, v := range base {
		r[k] = v
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("parse rates: %q is not kind=p", part)
		}
		k := Kind(strings.TrimSpace(name))
		if !validKind(k) {
			return nil, fmt.Errorf("parse rates: unknown fault kind %q", name)
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || p < 0 || p > 1 {
			return nil, fmt.Errorf("parse rates: %q: want a probability in [0, 1]", part)
		}
		r[k] = p
	}
	return r, r.Validate()
}

// Validate checks that each rate is a probability and that they sum to at
// most 1.
func (r Rates) Validate() error {
	sum := 0.0
	for k, p := range r {
		if !validKind(k) {
			return fmt.Errorf("rates: unknown fault kind %q", k)
		}
		if p < 0 || p > 1 {
			return fmt.Errorf("rates: %s = %v is not a probability", k, p)
		}
		sum += p
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("rates: the rates sum to %v, more than 1", sum)
	}
	return nil
}

func validKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Decision is what the proxy does to one request. Frac and Variant
// parameterise the fault: how much of a body survives a truncation (0 ≤
// Frac < 1), how long a delay lasts (Frac × MaxDelay), and which variant of
// DropResponse (Variant 0: close the connection, 1: answer 502) or Duplicate
// (0: sequential, 1: concurrent) applies.
type Decision struct {
	Kind    Kind
	Frac    float64
	Variant int
}

// Decider draws decisions from a seeded source: the n-th call of Next always
// answers the same decision for the same seed and rates, whatever the timing.
// It is safe for concurrent use.
type Decider struct {
	mu    sync.Mutex
	rng   *rand.Rand
	rates Rates
}

// NewDecider returns a Decider for rates seeded with seed.
func NewDecider(seed uint64, rates Rates) *Decider {
	return &Decider{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rates: rates}
}

// Next draws the next decision. Every call consumes the same number of
// random values, so the sequence depends only on the seed and the rates.
func (d *Decider) Next() Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, frac, variant := d.rng.Float64(), d.rng.Float64(), d.rng.IntN(2)
	acc := 0.0
	for _, k := range Kinds {
		acc += d.rates[k]
		if u < acc {
			return Decision{Kind: k, Frac: frac, Variant: variant}
		}
	}
	return Decision{Kind: None}
}

// Counts are the numbers of requests per fault kind (None included).
type Counts map[Kind]int64

// String prints the counts as "kind=n ..." in a stable order.
func (c Counts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, c[Kind(k)])
	}
	return b.String()
}

// Config configures a Proxy.
type Config struct {
	// Target is the upstream server's root URL, e.g. "http://127.0.0.1:8080".
	Target string
	// Rates are the fault probabilities per disturbed request.
	Rates Rates
	// Seed seeds the decisions.
	Seed uint64
	// Prefixes are the path prefixes whose requests get faults (default
	// "/api/"); every other request is forwarded untouched.
	Prefixes []string
	// MaxDelay bounds a Delay fault (default 1 s).
	MaxDelay time.Duration
	// AdminPrefix is the path prefix of the proxy's own endpoints, never
	// forwarded (default "/_chaos/").
	AdminPrefix string
	// Disabled starts the proxy with faults off.
	Disabled bool
	// Sleep waits for a Delay fault; default time.Sleep (tests replace it).
	Sleep func(time.Duration)
}
