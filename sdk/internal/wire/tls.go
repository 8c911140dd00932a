package wire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"sync"
	"time"
)

// Mutual TLS between host and plugin.
//
// go-plugin's AutoMTLS has each side generate a P-521 key per launch, which
// costs more than the rest of a launch together. The host here issues both
// certificates itself from P-256 keys (tens of microseconds, and cheap to use
// in a fresh process): its own once per host process, the plugin's fresh for
// every launch (issued one launch ahead). It hands the plugin its key pair and
// the host's certificate through an inherited pipe, never through the
// environment or a file.
//
// Each side pins the other's certificate: the peer's leaf certificate must be
// byte for byte the one issued for this launch (no chain building, no pool
// of roots), so only this host can call this plugin and vice versa. TLS 1.3
// still checks the peer's CertificateVerify signature against that
// certificate's key, so presenting a copied certificate without its key
// fails the handshake.
//
// A plugin launched by a plain go-plugin host with AutoMTLS still works: with
// no pipe, ServerTLS returns nil and go-plugin's own AutoMTLS applies.
//
// The certificates keep the shape of protocol v1's first release (a
// self-signed CA for "localhost", usable for both roles), so that a host or
// plugin of that release, which verifies by chain building over a pool of
// one certificate, accepts them too.

// keyExchange is X25519 alone. Go's default adds the post-quantum hybrid
// X25519MLKEM768, whose first use costs a fresh plugin process over a
// millisecond; the connection never leaves this machine and its keys live
// for one process, so there is no traffic to harvest now and decrypt later.
var keyExchange = []tls.CurveID{tls.X25519}

// EnvTLSFD names the inherited file descriptor that carries the TLS bundle.
const EnvTLSFD = "ALPHASWARM_PLUGIN_TLS_FD"

// tlsBundle is what the host sends the plugin, PEM-encoded. Its JSON field
// names are part of protocol v1.
type tlsBundle struct {
	ServerCert []byte `json:"server_cert"`
	ServerKey  []byte `json:"server_key"`
	ClientCert []byte `json:"client_cert"`
}

// IssueCert makes a self-signed P-256 certificate for "localhost", usable
// for both TLS roles, and returns it with its key in PEM.
func IssueCert() (certPEM, keyPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"alphaswarm plugin"}},
		DNSNames:              []string{"localhost"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour), // keys live in memory, for one process
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// hostIdentity is the host's client certificate, issued once per process:
// it proves "this host" to every plugin it launches.
var hostIdentity = sync.OnceValues(func() (*hostCert, error) {
	certPEM, keyPEM, err := IssueCert()
	if err != nil {
		return nil, fmt.Errorf("issue host certificate: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load host certificate: %w", err)
	}
	return &hostCert{pem: certPEM, pair: pair}, nil
})

type hostCert struct {
	pem  []byte
	pair tls.Certificate
}

// NewLaunchTLS issues the plugin's certificate for one launch. It returns
// the host's TLS config, which accepts only that certificate, and the bundle
// to send the plugin through Pipe.
func NewLaunchTLS() (*tls.Config, []byte, error) {
	host, err := hostIdentity()
	if err != nil {
		return nil, nil, err
	}
	plugin, err := nextPluginCert()
	if err != nil {
		return nil, nil, fmt.Errorf("issue plugin certificate: %w", err)
	}
	return launchTLS(host, plugin.cert, plugin.key)
}

// launchTLS builds the host's side of a launch whose plugin holds certPEM.
func launchTLS(host *hostCert, certPEM, keyPEM []byte) (*tls.Config, []byte, error) {
	pluginDER, err := certDER(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("load plugin certificate: %w", err)
	}
	bundle, err := json.Marshal(tlsBundle{ServerCert: certPEM, ServerKey: keyPEM, ClientCert: host.pem})
	if err != nil {
		return nil, nil, fmt.Errorf("encode TLS bundle: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{host.pair},
		// Chain building is replaced by pinning: VerifyConnection accepts
		// exactly the certificate issued for this launch. crypto/tls still
		// checks the plugin's CertificateVerify signature with its key.
		InsecureSkipVerify: true,
		VerifyConnection:   pinned(pluginDER, "plugin"),
		ServerName:         "localhost",
		MinVersion:         tls.VersionTLS13,
		CurvePreferences:   keyExchange,
	}, bundle, nil
}

// pinned returns a VerifyConnection function that accepts a peer whose leaf
// certificate is byte for byte want. It runs on every handshake, resumed
// ones included.
func pinned(want []byte, peer string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("verify %s certificate: the %s presented none", peer, peer)
		}
		if !bytes.Equal(cs.PeerCertificates[0].Raw, want) {
			return fmt.Errorf("verify %s certificate: not the certificate issued for this launch", peer)
		}
		return nil
	}
}

// certDER returns the DER bytes of the first certificate in certPEM.
func certDER(certPEM []byte) ([]byte, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no certificate in PEM")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return block.Bytes, nil
}

// pluginCerts holds one plugin certificate issued ahead of time, so that a
// launch (a relaunch after a crash, above all) does not wait for key
// generation. Each certificate is used for exactly one launch.
var pluginCerts = make(chan issued, 1)

type issued struct {
	cert, key []byte
	err       error
}

// nextPluginCert takes the certificate issued ahead, or issues one now, and
// starts issuing the next in the background.
func nextPluginCert() (issued, error) {
	var c issued
	select {
	case c = <-pluginCerts:
	default:
		c.cert, c.key, c.err = IssueCert()
	}
	go func() {
		var next issued
		next.cert, next.key, next.err = IssueCert()
		select {
		case pluginCerts <- next:
		default: // another launch refilled it first
		}
	}()
	return c, c.err
}

// Pipe returns the read end of a pipe that holds bundle, for the plugin to
// inherit (its number goes in EnvTLSFD). The write end is closed, so the
// plugin reads to EOF.
func Pipe(bundle []byte) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create TLS pipe: %w", err)
	}
	defer w.Close()
	if _, err := w.Write(bundle); err != nil { // far below the pipe buffer
		r.Close()
		return nil, fmt.Errorf("write TLS pipe: %w", err)
	}
	return r, nil
}

// ServerTLS returns the TLS configuration the host issued to this plugin
// process, read from the pipe named by EnvTLSFD, or nil when the process was
// launched without one (go-plugin's own AutoMTLS then applies). It can be
// read once per process.
func ServerTLS() (*tls.Config, error) {
	fdText := os.Getenv(EnvTLSFD)
	if fdText == "" {
		return nil, nil
	}
	os.Unsetenv(EnvTLSFD)
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("read TLS bundle: bad descriptor %q", fdText)
	}
	f := os.NewFile(uintptr(fd), "tls-bundle")
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read TLS bundle: %w", err)
	}
	return serverTLS(raw)
}

// serverTLS builds the plugin's TLS configuration from the host's bundle: it
// serves the plugin's certificate and accepts exactly the host's.
func serverTLS(raw []byte) (*tls.Config, error) {
	var b tlsBundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("read TLS bundle: %w", err)
	}
	pair, err := tls.X509KeyPair(b.ServerCert, b.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("load server certificate: %w", err)
	}
	hostDER, err := certDER(b.ClientCert)
	if err != nil {
		return nil, fmt.Errorf("load host certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		// Any certificate gets as far as VerifyConnection, which accepts
		// only the host's; crypto/tls checks the client's CertificateVerify
		// signature with that certificate's key before.
		ClientAuth:       tls.RequireAnyClientCert,
		VerifyConnection: pinned(hostDER, "host"),
		// Tickets would only be sent to be thrown away: the host keeps no
		// session cache, each connection lives as long as the process.
		SessionTicketsDisabled: true,
		MinVersion:             tls.VersionTLS13,
		CurvePreferences:       keyExchange,
	}, nil
}
