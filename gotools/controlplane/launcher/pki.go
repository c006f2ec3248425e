package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pki is what the control plane's TLS and authentication need, written into DIR.
type pki struct {
	caCert, caKey         string // the cluster's own CA, trusted by the kubeconfig
	serverCert, serverKey string // kube-apiserver's serving certificate (127.0.0.1, localhost)
	saKey, saPub          string // signs and verifies ServiceAccount tokens
	tokenFile             string // static bearer tokens (--token-auth-file)
	adminToken            string
}

// newPKI writes a fresh CA, serving certificate, ServiceAccount key pair and admin token.
// ECDSA P-256 keys: every client we test (Go, Python's ssl, kubectl) accepts them, and they are
// made in microseconds. Go adds Subject and Authority Key Identifiers, which urllib3 2 on
// Python >= 3.13 requires.
func newPKI(dir string) (*pki, error) {
	p := pkiPaths(dir)
	now := time.Now().Add(-time.Hour)
	caKey, err := newKey(p.caKey)
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "dispatchctl-test-ca"},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("making the CA: %w", err)
	}
	if err := writePEM(p.caCert, "CERTIFICATE", caDER, 0o644); err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	serverKey, err := newKey(p.serverKey)
	if err != nil {
		return nil, err
	}
	serverTemplate := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now,
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTemplate, ca, &serverKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("making the serving certificate: %w", err)
	}
	if err := writePEM(p.serverCert, "CERTIFICATE", serverDER, 0o644); err != nil {
		return nil, err
	}
	saKey, err := newKey(p.saKey)
	if err != nil {
		return nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.saPub, "PUBLIC KEY", saPub, 0o644); err != nil {
		return nil, err
	}
	token := make([]byte, 24)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	p.adminToken = hex.EncodeToString(token)
	line := fmt.Sprintf("%s,admin,admin-uid,\"system:masters\"\n", p.adminToken)
	if err := os.WriteFile(p.tokenFile, []byte(line), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func newKey(path string) (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return key, writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}

// loadOrMakePKI reuses the keys of an earlier "up" in dir (etcd's data holds objects, such as
// ServiceAccount tokens, that depend on them), or makes new ones.
func loadOrMakePKI(dir string) (*pki, error) {
	p := pkiPaths(dir)
	for _, f := range []string{p.caCert, p.caKey, p.serverCert, p.serverKey, p.saKey, p.saPub, p.tokenFile} {
		if _, err := os.Stat(f); err != nil {
			return newPKI(dir)
		}
	}
	line, err := os.ReadFile(p.tokenFile)
	if err != nil {
		return nil, err
	}
	token, _, found := strings.Cut(string(line), ",")
	if !found || token == "" {
		return newPKI(dir)
	}
	p.adminToken = token
	return p, nil
}

func pkiPaths(dir string) *pki {
	return &pki{
		caCert:     filepath.Join(dir, "ca.crt"),
		caKey:      filepath.Join(dir, "ca.key"),
		serverCert: filepath.Join(dir, "apiserver.crt"),
		serverKey:  filepath.Join(dir, "apiserver.key"),
		saKey:      filepath.Join(dir, "sa.key"),
		saPub:      filepath.Join(dir, "sa.pub"),
		tokenFile:  filepath.Join(dir, "tokens.csv"),
	}
}
