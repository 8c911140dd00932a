package sdk

import (
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
// environment or a file. Each side trusts exactly the other's certificate, so
// only this host can call this plugin and vice versa.
//
// A plugin launched by a plain go-plugin host with AutoMTLS still works: with
// no pipe, Serve leaves TLS to go-plugin's own AutoMTLS.

// keyExchange is X25519 alone. Go's default adds the post-quantum hybrid
// X25519MLKEM768, whose first use costs a fresh plugin process over a
// millisecond; the connection never leaves this machine and its keys live
// for one process, so there is no traffic to harvest now and decrypt later.
var keyExchange = []tls.CurveID{tls.X25519}

// envTLSFD names the inherited file descriptor that carries tlsBundle.
const envTLSFD = "ALPHASWARM_PLUGIN_TLS_FD"

// tlsBundle is what the host sends the plugin, PEM-encoded.
type tlsBundle struct {
	ServerCert []byte `json:"server_cert"`
	ServerKey  []byte `json:"server_key"`
	ClientCert []byte `json:"client_cert"`
}

// issueCert makes a self-signed P-256 certificate for "localhost", usable
// for both TLS roles, and returns it with its key in PEM.
func issueCert() (certPEM, keyPEM []byte, err error) {
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
	certPEM, keyPEM, err := issueCert()
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

// newLaunchTLS issues the plugin's certificate for one launch. It returns
// the host's TLS config, which trusts only that certificate, and the bundle
// to send the plugin.
func newLaunchTLS() (*tls.Config, []byte, error) {
	host, err := hostIdentity()
	if err != nil {
		return nil, nil, err
	}
	plugin, err := nextPluginCert()
	if err != nil {
		return nil, nil, fmt.Errorf("issue plugin certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(plugin.cert)
	bundle, err := json.Marshal(tlsBundle{ServerCert: plugin.cert, ServerKey: plugin.key, ClientCert: host.pem})
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{
		Certificates:     []tls.Certificate{host.pair},
		RootCAs:          roots,
		ServerName:       "localhost",
		MinVersion:       tls.VersionTLS13,
		CurvePreferences: keyExchange,
	}, bundle, nil
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
		c.cert, c.key, c.err = issueCert()
	}
	go func() {
		var next issued
		next.cert, next.key, next.err = issueCert()
		select {
		case pluginCerts <- next:
		default: // another launch refilled it first
		}
	}()
	return c, c.err
}

// tlsPipe returns the read end of a pipe that holds bundle, for the plugin to
// inherit. The write end is closed, so the plugin reads to EOF.
func tlsPipe(bundle []byte) (*os.File, error) {
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
// process, read from the inherited pipe, or nil when the process was
// launched without one (go-plugin's own AutoMTLS then applies). Serve uses
// it; call it only when serving the protocol with go-plugin directly. It can
// be read once per process.
func ServerTLS() (*tls.Config, error) {
	fdText := os.Getenv(envTLSFD)
	if fdText == "" {
		return nil, nil
	}
	os.Unsetenv(envTLSFD)
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
	var b tlsBundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("read TLS bundle: %w", err)
	}
	pair, err := tls.X509KeyPair(b.ServerCert, b.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("load server certificate: %w", err)
	}
	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM(b.ClientCert) {
		return nil, errors.New("load host certificate: no certificate in bundle")
	}
	return &tls.Config{
		Certificates:     []tls.Certificate{pair},
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        clients,
		MinVersion:       tls.VersionTLS13,
		CurvePreferences: keyExchange,
	}, nil
}
