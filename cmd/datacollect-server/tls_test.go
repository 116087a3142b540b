//go:build !js

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selfSigned writes a self-signed ECDSA certificate for 127.0.0.1 and its
// key into dir and returns their paths and the parsed certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "datacollect test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile, cert
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	db := filepath.Join(dir, "dc.db")

	ready := make(chan string, 1)
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Ready: ready}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- m.Run(sctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-web", "../..",
			"-tls-cert", certFile, "-tls-key", keyFile})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := client.Get("https://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 2, resp.ProtoMajor, "HTTP/2 over TLS")
	assert.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))
	assert.Equal(t, tls.VersionTLS13, int(resp.TLS.Version))

	// TLS 1.1 is refused.
	old := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}
	_, err = (&http.Client{Transport: old, Timeout: 10 * time.Second}).Get("https://" + addr + "/healthz")
	assert.Error(t, err)

	// Plain HTTP to the TLS port gets no answer from the app.
	resp, err = http.Get("http://" + addr + "/healthz")
	if err == nil {
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	}

	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "DataCollect is running at https://"+addr+"/")
}

func TestServeTLSNeedsCertAndKey(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	db := filepath.Join(dir, "dc.db")
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	err := m.Run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-web", "../..", "-tls-cert", certFile})
	assert.EqualError(t, err, "serve: -tls-cert and -tls-key must be given together")
	err = m.Run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-web", "../..", "-tls-key", keyFile})
	assert.EqualError(t, err, "serve: -tls-cert and -tls-key must be given together")
	// A key that does not match the certificate is refused before listening.
	err = m.Run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-web", "../..", "-tls-cert", certFile, "-tls-key", certFile})
	assert.ErrorContains(t, err, "serve: load TLS certificate")
	assert.Empty(t, out.String())
}
