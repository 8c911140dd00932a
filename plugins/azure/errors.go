package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/alphaswarm/controller/sdk"
)

// armError turns an Azure error into the SDK's vocabulary: throttling and
// server errors the SDK's retries did not get past are retriable
// (Unavailable), a missing resource is NotFound; the message is Azure's
// code and message, never the whole response.
func armError(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		return fmt.Errorf("%s: the service principal could not sign in: %s", what, authFailure(authErr))
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", what, err)
	}
	detail := azureMessage(err)
	if quotaAnswer(re.ErrorCode, detail) {
		return fmt.Errorf("%s: Azure Container Apps quota exceeded in subscription or managed environment "+
			"(free cores, or ask Azure for a quota increase): %s", what, detail)
	}
	msg := fmt.Sprintf("%s: %s", what, detail)
	switch {
	case re.StatusCode == http.StatusTooManyRequests || re.StatusCode >= 500:
		u := &sdk.UnavailableError{Message: msg}
		if re.RawResponse != nil {
			if s, perr := time.ParseDuration(re.RawResponse.Header.Get("Retry-After") + "s"); perr == nil {
				u.RetryAfter = s
			}
		}
		return u
	case re.StatusCode == http.StatusNotFound:
		return sdk.NotFound("%s", msg)
	}
	return errors.New(msg)
}

// azureMessage is "<code>: <message>" of an ARM error body, or the status.
func azureMessage(err error) string {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err.Error()
	}
	code, msg := re.ErrorCode, ""
	if re.RawResponse != nil && re.RawResponse.Body != nil {
		raw, _ := io.ReadAll(io.LimitReader(re.RawResponse.Body, 64<<10))
		re.RawResponse.Body = io.NopCloser(bytes.NewReader(raw)) // for the next reader of this error
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &body) == nil {
			if body.Error.Code != "" {
				code = body.Error.Code
			}
			msg = body.Error.Message
		}
	}
	switch {
	case code != "" && msg != "" && re.StatusCode < 300: // a failed long-running operation
		return code + ": " + msg
	case code != "" && msg != "":
		return fmt.Sprintf("%s (HTTP %d): %s", code, re.StatusCode, msg)
	case code != "":
		return fmt.Sprintf("%s (HTTP %d)", code, re.StatusCode)
	}
	return fmt.Sprintf("HTTP %d", re.StatusCode)
}

// quotaAnswer reports whether an ARM error means a quota is used up: a code
// naming a quota, Container Apps' MaxNumberOf...Exceeded (environments per
// subscription or region), or ARM's general OperationNotAllowed (the code
// of core quota refusals) only when its message speaks of quota or cores,
// since that code also refuses operations for other reasons.
func quotaAnswer(code, message string) bool {
	lower := strings.ToLower(message)
	switch {
	case strings.Contains(strings.ToLower(code), "quota"),
		strings.HasPrefix(code, "MaxNumberOf") && strings.HasSuffix(code, "Exceeded"),
		strings.Contains(message, "Maximum Allowed Cores exceeded"):
		return true
	case code == "OperationNotAllowed":
		return strings.Contains(lower, "quota") || strings.Contains(lower, "cores")
	}
	return false
}

// isQuota says whether err is an Azure answer that a quota is used up: a
// 409 that is not worth waiting out.
func isQuota(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && quotaAnswer(re.ErrorCode, azureMessage(err))
}

// isStatus says whether err is an Azure answer with that status.
func isStatus(err error, status int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}
