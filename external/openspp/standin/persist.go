package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// fileFormat is the JSON layout of Options.DataFile.
type fileFormat struct {
	Version int                   `json:"version"`
	Models  map[string]*fileTable `json:"models"`
}

type fileTable struct {
	NextID  int              `json:"next_id"`
	Records []map[string]any `json:"records"` // each with "id"
}

// save writes the data to Options.DataFile atomically (a temporary file in
// the same directory, synced, then renamed over it). Caller holds s.mu.
func (s *Server) save() error {
	if s.opts.DataFile == "" {
		return nil
	}
	ff := fileFormat{Version: 1, Models: map[string]*fileTable{}}
	for name, tb := range s.e.tables {
		ft := &fileTable{NextID: tb.nextID, Records: make([]map[string]any, 0, len(tb.ids))}
		for _, id := range tb.ids {
			r := map[string]any{"id": id}
			for k, v := range tb.recs[id] {
				r[k] = v
			}
			ft.Records = append(ft.Records, r)
		}
		ff.Models[name] = ft
	}
	b, err := json.MarshalIndent(ff, "", " ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.opts.DataFile)
	tmp, err := os.CreateTemp(dir, filepath.Base(s.opts.DataFile)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.opts.DataFile)
}

// load reads Options.DataFile; it reports false when the file does not
// exist. Values are converted back to their stored Go types; fields the
// schema does not know are dropped.
func (s *Server) load() (bool, error) {
	b, err := os.ReadFile(s.opts.DataFile)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var ff fileFormat
	if err := json.Unmarshal(b, &ff); err != nil {
		return false, err
	}
	if ff.Version != 1 {
		return false, fmt.Errorf("unknown format version %d", ff.Version)
	}
	for name, ft := range ff.Models {
		m, ok := s.e.models[name]
		if !ok {
			continue
		}
		tb := s.e.tables[name]
		for _, raw := range ft.Records {
			id, ok := asInt(raw["id"])
			if !ok {
				return false, fmt.Errorf("%s: record without id", name)
			}
			r := rec{}
			for k, v := range raw {
				f, ok := m.fields[k]
				if !ok || f.computed {
					continue
				}
				switch f.kind {
				case kInt, kMany2one:
					n, ok := asInt(v)
					if !ok {
						return false, fmt.Errorf("%s(%d).%s: not an integer", name, id, k)
					}
					r[k] = n
				case kMany2many:
					ids, ok := intList(v)
					if !ok {
						return false, fmt.Errorf("%s(%d).%s: not a list of ids", name, id, k)
					}
					r[k] = ids
				default:
					r[k] = v
				}
			}
			tb.insert(id, r)
		}
		if ft.NextID > tb.nextID {
			tb.nextID = ft.NextID
		}
	}
	return true, nil
}
