package pluginmgr

import "strings"

// credentialPrefixes are the environment variables through which each
// backend's own tooling finds its endpoint and credentials.
var credentialPrefixes = []string{
	"DOCKER_HOST=", "DOCKER_CERT_PATH=", "DOCKER_TLS_VERIFY=", "DOCKER_CONFIG=", // compose
	"KUBECONFIG=",          // kubernetes
	"AWS_",                 // aws
	"AZURE_",               // azure
	"GOOGLE_", "CLOUDSDK_", // gcp
	"HOME=", // where the tools above look for their files
	"SSL_CERT_FILE=", "SSL_CERT_DIR=", "HTTPS_PROXY=", "HTTP_PROXY=", "NO_PROXY=",
}

// CredentialEnv picks from environ the variables that carry a caller's own
// backend endpoints and credentials, for commands that launch plugins on
// the caller's behalf (validate and plan, like terraform). The daemon does
// not use it: it resolves each backend instance's credentials itself.
func CredentialEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		for _, p := range credentialPrefixes {
			if strings.HasPrefix(kv, p) {
				out = append(out, kv)
				break
			}
		}
	}
	return out
}
