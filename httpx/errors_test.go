package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/httpx"
)

func TestStatusFor(t *testing.T) {
	tests := map[string]int{
		hotline.EINVALID: 400, hotline.EUNAUTHORIZED: 401, hotline.EFORBIDDEN: 403, hotline.ENOTFOUND: 404,
		hotline.ECONFLICT: 409, hotline.EOPTEDOUT: 409, hotline.ETOOLARGE: 413, hotline.ERATELIMIT: 429,
		hotline.EINTERNAL: 500, hotline.EUNAVAILABLE: 503, "ESOMETHINGNEW": 500,
	}
	for code, want := range tests {
		if got := httpx.StatusFor(code); got != want {
			t.Errorf("StatusFor(%s) = %d, want %d", code, got, want)
		}
	}
}

func TestErrorHandlerRendersOneShape(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(zerolog.Nop())
	e.GET("/api/v1/thing", func(echo.Context) error { return hotline.Errorf(hotline.ECONFLICT, "Taken by someone else.") })
	e.GET("/api/v1/boom", func(echo.Context) error { return http.ErrAbortHandler })
	e.POST("/webhooks/twilio/sms", func(echo.Context) error { return hotline.Errorf(hotline.EUNAVAILABLE, "disk full") })
	tests := []struct {
		method, path string
		status       int
		code         string
		message      string
	}{
		{"GET", "/api/v1/thing", 409, hotline.ECONFLICT, "Taken by someone else."},
		{"GET", "/api/v1/boom", 500, hotline.EINTERNAL, "Internal error."},
		{"GET", "/nowhere", 404, hotline.ENOTFOUND, "Not Found"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		var body httpx.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: body %q is not the error JSON: %v", tt.method, tt.path, rec.Body, err)
		}
		if rec.Code != tt.status || body.Error.Code != tt.code || body.Error.Message != tt.message {
			t.Errorf("%s %s = %d %+v, want %d %s %q", tt.method, tt.path, rec.Code, body, tt.status, tt.code, tt.message)
		}
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/webhooks/twilio/sms", nil))
	if rec.Code != 503 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") || !strings.Contains(rec.Body.String(), "disk full") {
		t.Errorf("webhook error = %d %q %q, want 503 plain text", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}
