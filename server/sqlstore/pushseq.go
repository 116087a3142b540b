//go:build !js

package sqlstore

// NextSeq implements datacollect.PushTx.
func (p *pushTx) NextSeq() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq + 1
}
