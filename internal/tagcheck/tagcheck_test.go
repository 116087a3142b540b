//go:build !js

// Package tagcheck guards, natively, the build constraints of the code that
// only builds for the browser: a file importing syscall/js without them
// breaks the native build and `go vet ./...` on every other platform.
package tagcheck

import (
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// wasmOnlyDirs are packages (relative to the module root) whose every Go
// file must build only for js/wasm, whatever it imports.
var wasmOnlyDirs = []string{"store/idb"}

// moduleRoot returns the directory of the enclosing go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// goFiles returns the module's Go files, skipping hidden directories,
// testdata, vendor, node_modules and nested modules.
func goFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "vendor" || name == "node_modules" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fileInfo returns whether a Go file imports syscall/js and its //go:build
// constraint (nil when it has none).
func fileInfo(t *testing.T, path string) (importsJS bool, expr constraint.Expr) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "syscall/js" {
			importsJS = true
		}
	}
	for _, g := range f.Comments {
		if g.Pos() >= f.Package {
			break
		}
		for _, c := range g.List {
			if constraint.IsGoBuild(c.Text) {
				if expr, err = constraint.Parse(c.Text); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
			}
		}
	}
	return importsJS, expr
}

// nameTags returns the GOOS/GOARCH tags a file name implies (x_js.go,
// x_wasm.go, x_js_wasm.go, with or without _test), as far as js and wasm go.
func nameTags(path string) map[string]bool {
	name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".go"), "_test")
	parts := strings.Split(name, "_")
	tags := map[string]bool{}
	if len(parts) < 2 {
		return tags
	}
	last := parts[len(parts)-1]
	if last == "js" || last == "wasm" {
		tags[last] = true
	}
	if len(parts) >= 3 && last == "wasm" && parts[len(parts)-2] == "js" {
		tags["js"] = true
	}
	return tags
}

// wasmOnly reports whether the file builds only when both js and wasm are
// set: whether its constraint (and name) implies js && wasm, checked over
// every assignment of the tags involved.
func wasmOnly(expr constraint.Expr, implied map[string]bool) bool {
	if expr == nil && !(implied["js"] && implied["wasm"]) {
		return false
	}
	tags := []string{"js", "wasm"}
	seen := map[string]bool{"js": true, "wasm": true}
	if expr != nil {
		expr.Eval(func(tag string) bool {
			if !seen[tag] {
				seen[tag] = true
				tags = append(tags, tag)
			}
			return false
		})
	}
	if len(tags) > 16 {
		return false // too complex to be a deliberate constraint
	}
	for bits := 0; bits < 1<<len(tags); bits++ {
		set := map[string]bool{}
		for i, tag := range tags {
			set[tag] = bits&(1<<i) != 0
		}
		builds := true
		for tag := range implied {
			builds = builds && set[tag]
		}
		if expr != nil {
			builds = builds && expr.Eval(func(tag string) bool { return set[tag] })
		}
		if builds && !(set["js"] && set["wasm"]) {
			return false
		}
	}
	return true
}

func TestSyscallJSFilesAreWasmOnly(t *testing.T) {
	root := moduleRoot(t)
	n := 0
	for _, path := range goFiles(t, root) {
		importsJS, expr := fileInfo(t, path)
		if !importsJS {
			continue
		}
		n++
		if !wasmOnly(expr, nameTags(path)) {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s imports syscall/js but does not build only for js && wasm: start it with //go:build js && wasm", rel)
		}
	}
	if n == 0 {
		t.Log("no file imports syscall/js")
	}
}

func TestWasmOnlyDirs(t *testing.T) {
	root := moduleRoot(t)
	for _, dir := range wasmOnlyDirs {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
				continue
			}
			path := filepath.Join(root, dir, e.Name())
			_, expr := fileInfo(t, path)
			if !wasmOnly(expr, nameTags(path)) {
				t.Errorf("%s/%s does not build only for js && wasm: start it with //go:build js && wasm", dir, e.Name())
			}
		}
	}
}

func TestWasmOnly(t *testing.T) {
	for _, tc := range []struct {
		line string
		name string
		want bool
	}{
		{"//go:build js && wasm", "a.go", true},
		{"//go:build wasm && js && !purego", "a.go", true},
		{"//go:build js", "a.go", false},
		{"//go:build wasm", "a.go", false},
		{"//go:build js || wasm", "a.go", false},
		{"//go:build !windows", "a.go", false},
		{"", "a.go", false},
		{"", "a_js_wasm.go", true},
		{"", "a_js_wasm_test.go", true},
		{"//go:build wasm", "a_js.go", true},
		{"", "a_js.go", false},
	} {
		var expr constraint.Expr
		if tc.line != "" {
			var err error
			if expr, err = constraint.Parse(tc.line); err != nil {
				t.Fatal(err)
			}
		}
		if got := wasmOnly(expr, nameTags(tc.name)); got != tc.want {
			t.Errorf("wasmOnly(%q, %s) = %v, want %v", tc.line, tc.name, got, tc.want)
		}
	}
}
