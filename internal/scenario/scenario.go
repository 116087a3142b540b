// Package scenario runs data-driven tests: text files of commands, each with
// optional input and the expected output, in the spirit of etcd-io/raft's
// datadriven tests. A file is a sequence of blocks:
//
//	# comments and blank lines between blocks are ignored
//	command key=value key2=value2
//	optional input lines
//	----
//	expected output lines
//
// A block ends at the first blank line after "----". Run with -rewrite to
// regenerate the expected output from what the code produces.
package scenario

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite scenario files with the actual output")

// Command is one block of a scenario file.
type Command struct {
	Name  string
	Args  map[string]string
	Input string
	Line  int
}

// Arg returns the named argument or def.
func (c *Command) Arg(name, def string) string {
	if v, ok := c.Args[name]; ok {
		return v
	}
	return def
}

type block struct {
	pre      []string // comment/blank lines before the command
	cmd      Command
	cmdLine  string
	input    []string
	expected []string
}

// RunDir runs every *.txt file in dir as a subtest. fresh returns a new
// handler per file, so state does not leak between files.
func RunDir(t *testing.T, dir string, fresh func(t *testing.T) func(*Command) string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files in %s", dir)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			RunFile(t, f, fresh(t))
		})
	}
}

// RunFile runs one scenario file through handle.
func RunFile(t *testing.T, path string, handle func(*Command) string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, tail := parse(t, path, string(raw))
	var out strings.Builder
	for _, b := range blocks {
		got := strings.TrimRight(handle(&b.cmd), "\n")
		want := strings.Join(b.expected, "\n")
		if got != want && !*rewrite {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, b.cmd.Line, b.cmdLine, got, want)
		}
		for _, l := range b.pre {
			out.WriteString(l + "\n")
		}
		out.WriteString(b.cmdLine + "\n")
		for _, l := range b.input {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n")
		if got != "" {
			out.WriteString(got + "\n")
		}
	}
	for _, l := range tail {
		out.WriteString(l + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func parse(t *testing.T, path, text string) ([]block, []string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var blocks []block
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		b := block{pre: pre, cmdLine: l}
		pre = nil
		fields := strings.Fields(l)
		b.cmd = Command{Name: fields[0], Args: map[string]string{}, Line: i + 1}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			b.cmd.Args[k] = v
		}
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			b.input = append(b.input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: block has no ----", path, b.cmd.Line)
		}
		b.cmd.Input = strings.Join(b.input, "\n")
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			b.expected = append(b.expected, lines[i])
		}
		if i < len(lines) {
			pre = append(pre, lines[i])
		}
		blocks = append(blocks, b)
	}
	return blocks, pre
}
