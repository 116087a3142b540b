//go:build !js

// Package pgtest starts a real PostgreSQL server for tests.
//
// The server is started lazily, once per test binary, by the first call to
// DSN, and each DSN call creates a fresh, empty database on it. A package
// whose tests call DSN stops the server at exit with Main:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// The server runs from a temporary directory with PostgreSQL's default
// settings (fsync and synchronous_commit on), listening on a free TCP port of
// 127.0.0.1 and on a unix socket inside that directory. Its binaries are
// taken from the highest version under /usr/lib/postgresql/*/bin; when there
// are none, Debian's postgresql package is installed (as root). When
// PostgreSQL cannot be had, the tests that need it are skipped, unless the
// environment variable DATACOLLECT_REQUIRE_POSTGRES is "1", in which case
// they fail.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv is the environment variable that, set to "1", turns a missing
// PostgreSQL into a test failure instead of a skip.
const RequireEnv = "DATACOLLECT_REQUIRE_POSTGRES"

// binRoot holds Debian's PostgreSQL installations, one directory per version.
const binRoot = "/usr/lib/postgresql"

// osUser is the account the server runs as when the tests run as root
// (initdb and postgres refuse to run as root).
const osUser = "postgres"

// server is the one PostgreSQL server of the test binary.
type server struct {
	dir   string // temporary directory: data/, the socket and the log
	bin   string // directory of initdb, pg_ctl and postgres
	port  int
	runAs string    // OS user running the server, "" for the current one
	admin *pgx.Conn // to the database "postgres"; guarded by mu
}

var (
	once    sync.Once
	srv     *server
	startEr error
	skip    bool // startEr means "PostgreSQL is not available", not a failure
	dbSeq   atomic.Int64
	mu      sync.Mutex // guards starting, stopped and srv.admin
	stopped bool
)

// DSN returns the connection string of a fresh, empty database on the test
// binary's PostgreSQL server, starting the server on first use. It skips the
// test when PostgreSQL is not available (see the package doc).
func DSN(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if stopped {
		t.Fatal("pgtest: the server was stopped")
	}
	once.Do(func() { srv, skip, startEr = start() })
	if startEr != nil {
		if skip && os.Getenv(RequireEnv) != "1" {
			t.Skipf("pgtest: PostgreSQL is not available (%v); set %s=1 to fail instead", startEr, RequireEnv)
		}
		t.Fatalf("pgtest: %v", startEr)
	}
	name := "test_" + strconv.FormatInt(dbSeq.Add(1), 10)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The name is generated above: DDL takes no parameters.
	if _, err := srv.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return srv.dsn(name)
}

// Main runs the tests of m, stops the server if one was started, and exits
// with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop stops the server, if one was started, and removes its directory. DSN
// fails after Stop.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	if stopped || srv == nil {
		stopped = true
		return nil
	}
	stopped = true
	srv.admin.Close(context.Background())
	err := srv.pgCtl("-m", "fast", "-w", "stop")
	if rerr := os.RemoveAll(srv.dir); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", osUser, s.port, db)
}

// start starts the server. skip reports that PostgreSQL is not installed and
// could not be installed.
func start() (_ *server, skip bool, _ error) {
	bin, err := findBin()
	if err != nil {
		if os.Geteuid() != 0 {
			return nil, true, fmt.Errorf("%v, and installing it needs root", err)
		}
		if out, ierr := install(); ierr != nil {
			return nil, true, fmt.Errorf("%v, and installing Debian's postgresql failed: %v\n%s", err, ierr, out)
		}
		if bin, err = findBin(); err != nil {
			return nil, true, err
		}
	}
	s := &server{bin: bin}
	if os.Geteuid() == 0 {
		s.runAs = osUser
	}
	if err := s.init(); err != nil {
		s.cleanup()
		return nil, false, err
	}
	s.watch()
	// The port is free when chosen but may be taken before the server binds
	// it: try a few.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err == nil {
			if err = s.pgCtl("-w", "-t", "60", "-l", filepath.Join(s.dir, "log"), "-o", s.options(), "start"); err == nil {
				break
			}
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			s.cleanup()
			return nil, false, fmt.Errorf("start: %v\n%s", err, log)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s.admin, err = pgx.Connect(ctx, s.dsn("postgres")); err != nil {
		_ = s.pgCtl("-m", "immediate", "-w", "stop")
		s.cleanup()
		return nil, false, fmt.Errorf("connect: %v", err)
	}
	return s, false, nil
}

// watchdog stops the server ($2/data) and removes its directory once the
// process $1 is gone: the test binary may die (a test timeout, ^C) without
// running Stop. After Stop it finds nothing to do.
const watchdog = `while kill -0 "$1" 2>/dev/null; do sleep 1; done
pidfile="$2/data/postmaster.pid"
if [ -f "$pidfile" ]; then
	pid=$(head -n 1 "$pidfile")
	kill -INT "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
fi
rm -rf "$2"`

// watch starts the watchdog, in a session of its own so that a ^C meant for
// the tests does not reach it, and with no hold on their output.
func (s *server) watch() {
	cmd := exec.Command("sh", "-c", watchdog, "pgtest-watchdog", strconv.Itoa(os.Getpid()), s.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		go cmd.Wait() //nolint:errcheck // reaps it if the tests outlive it
	}
}

// findBin returns the bin directory of the highest PostgreSQL version
// installed.
func findBin() (string, error) {
	dirs, _ := filepath.Glob(filepath.Join(binRoot, "*", "bin"))
	var found []string
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("no initdb and pg_ctl under %s/*/bin", binRoot)
	}
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	return found[0], nil
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// install installs Debian's postgresql package.
func install() ([]byte, error) {
	var out bytes.Buffer
	for _, args := range [][]string{{"update"}, {"install", "-y", "postgresql"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return out.Bytes(), fmt.Errorf("apt-get %s: %v", strings.Join(args, " "), err)
		}
	}
	return nil, nil
}

// init creates the temporary directory and the database cluster in it.
func (s *server) init() error {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return err
	}
	s.dir = dir
	if s.runAs != "" {
		u, err := user.Lookup(s.runAs)
		if err != nil {
			return fmt.Errorf("running as root needs the OS user %s: %v", s.runAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	out, err := s.run("initdb", "-D", filepath.Join(dir, "data"), "-U", osUser,
		"--auth=trust", "--encoding=UTF8", "--locale=C")
	if err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// options are the server's settings: PostgreSQL's defaults but for where it
// listens.
func (s *server) options() string {
	return fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s", s.port, s.dir)
}

func (s *server) pgCtl(args ...string) error {
	args = append([]string{"-D", filepath.Join(s.dir, "data")}, args...)
	if out, err := s.run("pg_ctl", args...); err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", args[len(args)-1], err, out)
	}
	return nil
}

// run runs one of the server's binaries, as the server's OS user.
func (s *server) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir // readable by the server's user, unlike the caller's directory perhaps
	// pg_ctl's server keeps running: its output goes to the log, but the
	// command's pipes must not be held open by it.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return out.Bytes(), err
}

func (s *server) cleanup() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
