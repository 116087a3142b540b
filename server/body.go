package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	dc "github.com/datacollect/datacollect"
	"github.com/datacollect/datacollect/wire"
)

// readBody reads and decodes a request body of at most limit bytes (after
// decompression), strictly: a body over the limit is ETOOLARGE, a malformed
// one EINVALID. It returns the number of bytes read from the wire.
func readBody(r *http.Request, limit int64, m wire.Message) (int64, error) {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !wire.IsJSON(ct) && !strings.HasPrefix(ct, wire.MsgPack) {
		return 0, dc.Errorf(dc.EINVALID, "unsupported Content-Type %q (use %s or %s)", ct, wire.MsgPack, wire.JSON)
	}
	counted := &countingReader{r: http.MaxBytesReader(nil, r.Body, limit)}
	var body io.Reader = counted
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(counted)
		if err != nil {
			return counted.n, bodyError(err, limit)
		}
		defer zr.Close()
		body = zr
	default:
		return 0, dc.Errorf(dc.EINVALID, "unsupported Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return counted.n, bodyError(err, limit)
	}
	if int64(len(b)) > limit {
		return counted.n, dc.Errorf(ETOOLARGE, "body larger than %d bytes", limit)
	}
	if len(b) == 0 {
		return counted.n, dc.Errorf(dc.EINVALID, "empty body")
	}
	return counted.n, wire.Unmarshal(ct, b, m)
}

func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return dc.Errorf(ETOOLARGE, "body larger than %d bytes", limit)
	}
	return dc.Errorf(dc.EINVALID, "unreadable body: %v", err)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// minGzip is the size under which compressing is not worth it.
const minGzip = 512

// writeBody sends body, gzip-compressed when the client accepts it.
func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) int {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Add("Vary", "Accept-Encoding")
	if len(body) >= minGzip && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		gzipPool.Put(zw)
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return len(body)
}
