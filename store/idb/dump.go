//go:build js && wasm

package idbstore

import "syscall/js"

// RawDump returns everything the database holds, as IndexedDB holds it:
// for each object store, each record's key, string fields and payload
// bytes (meta values are the payloads), concatenated. It is for checking
// what a stolen device would reveal (tests, audits), not for reading data.
func RawDump(s *Store) ([]byte, error) {
	var out []byte
	for _, name := range []string{storeEvents, storeEntities, storeAudit, storeMeta} {
		st := s.db.Call("transaction", name, "readonly").Call("objectStore", name)
		keysReq := st.Call("getAllKeys")
		req := st.Call("getAll")
		if e := awaitRequest(req); e != nil {
			return nil, e
		}
		keys, vals := keysReq.Get("result"), req.Get("result")
		for i := 0; i < vals.Length(); i++ {
			out = append(out, js.Global().Get("String").Invoke(keys.Index(i)).String()...)
			v := vals.Index(i)
			if name == storeMeta {
				out = append(out, readBytes(nil, v)...)
				continue
			}
			fields := js.Global().Get("Object").Call("keys", v)
			for j := 0; j < fields.Length(); j++ {
				f := v.Get(fields.Index(j).String())
				switch f.Type() {
				case js.TypeString:
					out = append(out, f.String()...)
				case js.TypeObject:
					out = append(out, readBytes(nil, f)...)
				}
			}
		}
	}
	return out, nil
}
